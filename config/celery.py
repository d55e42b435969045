"""The Celery app; configuration comes from Django settings (``CELERY_*``)."""

import logging
import os

from celery import Celery
from celery.signals import worker_process_init

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
