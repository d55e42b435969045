"""The cache key prefix of this test run, made once per process (conftest may be imported twice).

With REDIS_URL set, the cache lives on the machine's shared Redis (config/cache.py), where
other engineers' test runs keep their keys too. Each run keeps its keys under a prefix of
its own and ``cache.clear()`` deletes only that prefix, so no run wipes another's keys (a
Redis cache's clear is never FLUSHDB here). Always set, never taken from the environment:
a .env could name the production prefix.
"""

import os
import uuid

RUN_PREFIX = f"tagloop-test-{uuid.uuid4().hex[:12]}"
# Processes a test starts (the worker, a web server) inherit it and share the run's keys.
os.environ["TAGLOOP_CACHE_KEY_PREFIX"] = RUN_PREFIX
