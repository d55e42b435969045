"""``manage.py check --deploy`` warnings of tagloop's own, about settings Django cannot judge."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def secret_key_shared(app_configs, **kwargs):
    """A generated key is per machine: a second web process or worker elsewhere would have another."""
    if not settings.TAGLOOP_SECRET_KEY_GENERATED:
        return []
    return [
        Warning(
            f"DJANGO_SECRET_KEY is not set: this machine uses a key generated in {settings.VAR_DIR / 'secret_key'}.",
            hint="Set DJANGO_SECRET_KEY to one long random value shared by every web process and worker; "
            "processes on other machines would otherwise refuse each other's sessions and links.",
            id="tagloop.W001",
        )
    ]
