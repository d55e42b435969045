"""The Celery app; configuration comes from Django settings (``CELERY_*``)."""

import os

from celery import Celery

# The folders of the filesystem broker are made when Django starts (config/var_dirs.py): a worker
# runs django.setup() through celery's Django fixup before it consumes.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

app = Celery("tagloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
