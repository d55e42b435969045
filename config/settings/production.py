"""Production: the container image (Dockerfile) and any deployment set DJANGO_SETTINGS_MODULE to this.

``base`` is already as strict as production needs (config/secret_key.py refuses a weak
DJANGO_SECRET_KEY or TAGLOOP_REPORTER_SALT with DEBUG off; HTTPS, proxies and cookies come
from the environment, .env.example's production block, and `manage.py check --deploy` names
what is missing). A setting that only a deployment should have goes here.
"""

from config.settings.base import *  # noqa: F403
