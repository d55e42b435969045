"""A web process gets ready to answer before its first request (TAGLOOP_WARM_AT_BOOT).

Imported by config.wsgi, so only by web servers: workers and commands never pay for it.
The URL patterns import every view (and what the views import); serving_warm loads and
compiles the active model and answers one text. Under ``gunicorn --preload`` this runs
once in the master and the workers inherit it (copy-on-write); without, in each worker
as it boots, before it accepts a connection.
"""

import gc
import logging
import time

from django.db import connections
from django.urls import get_resolver

logger = logging.getLogger(__name__)


def warm_web_process() -> None:
    started = time.perf_counter()
    _ = get_resolver().url_patterns  # resolving imports every view module now, not on the first request
    from predictions.services.serving import serving_warm

    try:
        versions = serving_warm()
    except Exception as exc:  # noqa: BLE001 - a process that cannot warm still starts: requests will say why
        logger.warning(
            "web process not warmed (%s: %s); the first request loads what it needs", type(exc).__name__, exc
        )
        versions = None
    finally:
        _close_connections()
        _freeze_boot_objects()
    if versions is not None:
        served = ", ".join(f"v{version.number} {version.algorithm}" for version in versions) or "no active model"
        logger.info("web process warm in %.2f s: %s", time.perf_counter() - started, served)


def _freeze_boot_objects() -> None:
    """Move what boot made (modules, URLs, the model) out of the garbage collector's sight.

    They live as long as the process. A collection would still visit them and write to their
    headers, turning the pages that forked workers share with the master (gunicorn --preload)
    into private copies in every worker.
    """
    gc.collect()
    gc.freeze()


def _close_connections() -> None:
    # Never hand a connection opened here to forked workers (gunicorn --preload): they would
    # share one socket. A connection inside a transaction is not this boot's (a test's).
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
