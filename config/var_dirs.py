"""The folders tagloop writes to, made when Django starts rather than when the settings are imported.

Importing settings should not touch the disk (a settings import in a tool, a check or a
build would otherwise create ``var/``). Every tagloop process runs ``django.setup()`` first
(manage.py, config.wsgi, and celery's Django fixup in a worker), whose app registry calls
config.apps.TagloopAdminConfig.ready, which calls :func:`make_var_dirs`.
"""

from pathlib import Path

BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def var_dirs(settings) -> list[Path]:
    """VAR_DIR (SQLite, the generated key, beat's schedule), STATIC_ROOT and the filesystem broker's folders."""
    folders = [Path(settings.VAR_DIR), Path(settings.STATIC_ROOT)]
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        # kombu's filesystem transport expects its folders to exist.
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}
        folders += [Path(options[key]) for key in BROKER_FOLDERS if options.get(key)]
    return folders


def make_var_dirs(settings) -> None:
    for folder in var_dirs(settings):
        folder.mkdir(parents=True, exist_ok=True)
