"""tagloop's own system checks, about settings Django cannot judge (``manage.py check``, ``--deploy`` for some)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


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


@register()
def minilm_backend_setting(app_configs, **kwargs):
    """A misspelt TAGLOOP_MINILM_BACKEND would otherwise surface only at the first encode (a failed retrain)."""
    from ml.minilm_backends import configured_backend  # numpy only: no scikit-learn at start-up

    try:
        configured_backend()
    except (ValueError, ImportError) as error:
        return [
            Error(
                str(error),
                hint="Use onnx-int8 (the default), onnx-fp32 or numpy; the ONNX ones need requirements.txt's onnxruntime.",
                id="tagloop.E001",
            )
        ]
    return []


@register()
def trust_settings_valid(app_configs, **kwargs):
    """A TAGLOOP_TRUST_* value out of range would otherwise surface only in the worker's first trust check."""
    from predictions.selectors.trust import trust_settings

    try:
        trust_settings()
    except ValueError as error:
        return [
            Error(
                f"the precision promise's settings: {error}",
                hint="See the TAGLOOP_TRUST_* settings in .env.example (e.g. TAGLOOP_TRUST_RISK in (0, 1), "
                "TAGLOOP_TRUST_WINDOW_ITEMS at least 1).",
                id="tagloop.E002",
            )
        ]
    return []
