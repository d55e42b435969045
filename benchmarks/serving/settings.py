"""Production's settings plus the reference views' URLs: only bench-serve's gunicorn uses this module.

Production never names it, so the references are never mounted there.
"""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "benchmarks.serving.urls"
