"""tagloop's settings, one module per environment (cookiecutter-django's shape).

- ``base``: everything, read from the environment; the other modules start from it.
- ``development``: what ``make run``, ``manage.py``, ``celery -A config`` and config.wsgi use
  when DJANGO_SETTINGS_MODULE is not set.
- ``test``: pytest (pyproject.toml), and the workers and servers the tests start.
- ``production``: the container image (Dockerfile) and any deployment.

This package itself defines no settings: DJANGO_SETTINGS_MODULE names one of the modules.
"""
