"""Development: ``make run`` on one machine, and the default of manage.py, celery and wsgi.

Today it is ``base`` as it is: the embedded defaults (SQLite and a filesystem broker under
``var/``) apply whenever DATABASE_URL and REDIS_URL are unset, whatever the module, and DEBUG
stays off unless DJANGO_DEBUG says otherwise, so a weak key is refused here as in production.
A setting that only a developer's machine should have goes here.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

# Webhooks to private addresses: a developer's receiver runs on localhost (base refuses them).
TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS", default=True)
