"""Benchmarks, the loop simulation and the writers of docs/benchmarks.md: tools, not the library.

Each ``bench_*`` module is run as ``python -m benchmarks.bench_NAME`` (the Makefile's
``bench-*`` targets do) and rewrites its own ``## Section`` of docs/benchmarks.md.
They may import ``ml`` and Django; ``ml`` never imports them (tests/test_architecture.py).
"""
