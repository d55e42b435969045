"""The Celery app; configuration comes from Django settings (``CELERY_*``)."""

import logging
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

# The folders of the filesystem broker are made when Django starts (config/var_dirs.py): a worker
# runs django.setup() through celery's Django fixup before it consumes.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

app = Celery("tagloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _warm_and_freeze(**_) -> None:
    """Each pool process, as it starts: the active model loaded, then what lives as long as the process frozen.

    Frozen, those objects are never walked by the garbage collector's full collections (common.gc_freeze); half of
    them come with the model (scikit-learn, SciPy), so it is loaded first. A process that cannot load it still starts.
    """
    from common.gc_freeze import freeze_long_lived  # noqa: PLC0415 -- workers only
    from predictions.services.batch import warm_worker_process  # noqa: PLC0415 -- Django is set up by now

    try:
        warm_worker_process()
    except Exception:  # noqa: BLE001 -- the first chunk loads what it needs
        logging.getLogger(__name__).warning("worker process not warmed", exc_info=True)
    finally:
        freeze_long_lived()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **_) -> None:
    """Around each task, as Django around each request: a connection past CONN_MAX_AGE, broken, or left out of
    autocommit is closed, and one that is kept is checked before its next use (CONN_HEALTH_CHECKS).

    Celery's Django fixup no longer closes it after every task (CELERY_DB_REUSE_MAX). A task run eagerly (inside
    the caller's transaction) is left alone, as the fixup leaves it.
    """
    from django.db import close_old_connections, connection  # noqa: PLC0415 -- Django is set up by now

    if getattr(getattr(task, "request", None), "is_eager", False) or connection.in_atomic_block:
        return
    close_old_connections()
