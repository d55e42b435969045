"""Framework-free machine-learning core of tagloop.

This package turns labelled ML content (a title plus a description) into
models that tag new content as one of a small set of topics, and measures how
well they do.  It deliberately knows nothing about Django, Celery or the
database: callers hand it plain strings, lists and the dataclasses in
:mod:`ml.items`, and get plain Python values (or fitted scikit-learn
pipelines) back.  Keeping it that way lets the same code run in a web request,
a Celery worker, a notebook or a test without any settings module, and is
enforced by ``tests/ml/test_no_django.py``.
"""
