"""What the benchmarks share: how they are called, their common arguments and how they time a call.

Every benchmark reads the dataset, prints a report and rewrites its own ``## Section`` of
docs/benchmarks.md unless told to only print; the report starts with the command that made
it, so a reader can run it again.
"""

import argparse
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

DATASET = Path("data/madewithml_dataset.csv")
DOCS = Path("docs/benchmarks.md")


def argument_parser(module: str, description: str) -> argparse.ArgumentParser:
    """A parser named as the benchmark is run (``python -m benchmarks.NAME``), with ``--dataset``."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--dataset", type=Path, default=DATASET)
    return parser


def add_docs_arguments(parser: argparse.ArgumentParser, section: str) -> None:
    """``--docs PATH`` (default docs/benchmarks.md), or ``--no-docs`` / ``--no-write``: ``args.docs`` is None."""
    docs = parser.add_mutually_exclusive_group()
    docs.add_argument(
        "--docs", type=Path, default=DOCS, help=f"Markdown file whose '## {section}' section is rewritten"
    )
    # Both spellings: the benchmarks grew up with one or the other.
    docs.add_argument("--no-docs", "--no-write", dest="docs", action="store_const", const=None, help="only print")


def command_line(module: str, argv: Sequence[str] | None) -> str:
    """The command as typed: ``python -m module`` and the arguments (``sys.argv`` when ``argv`` is None)."""
    return shlex.join(["python", "-m", module, *(sys.argv[1:] if argv is None else argv)])


def utc_minute() -> str:
    """Now, to the minute, as the reports date their figures."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def elapsed_ms(function: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Wall-clock milliseconds of one call of ``function(*args, **kwargs)`` (its result is dropped)."""
    started = time.perf_counter()
    function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def p50_p99(values: Sequence[float]) -> tuple[float, float]:
    """Median and 99th percentile (numpy's linear interpolation between the nearest ranks)."""
    p50, p99 = np.percentile(values, [50, 99])
    return float(p50), float(p99)
