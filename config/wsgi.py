import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - configured by the line above

if settings.TAGLOOP_WARM_AT_BOOT:
    from config.warm import warm_web_process

    warm_web_process()
