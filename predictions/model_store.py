"""Load model artifacts once per process, verified by their sha256."""
import threading
import time
from pathlib import Path

from django.conf import settings

from ml.persistence import load_model
from predictions.models import ModelVersion

_lock = threading.Lock()
_cache: dict[tuple[int, str], object] = {}


def artifact_path(model_version: ModelVersion) -> Path:
    path = Path(model_version.artifact_path)
    return path if path.is_absolute() else Path(settings.MODEL_DIR) / path


def load_version(model_version: ModelVersion):
    """The fitted pipeline of ``model_version``, from memory after the first call."""
    key = (model_version.number, model_version.artifact_sha256)
    with _lock:
        if key not in _cache:
            _cache[key] = load_model(artifact_path(model_version), expected_sha256=model_version.artifact_sha256)
        return _cache[key]


# The online API asks "which version is active?" on every request; the answer changes
# only on a promotion. Each process re-reads it at most once a second (a promotion
# reaches every web process within that second) and forgets it at once when the
# promotion happens in this process.
ACTIVE_VERSION_TTL_SECONDS = 1.0
_active: dict = {"version": None, "read_at": float("-inf")}


def active_version_cached():
    from predictions.selectors import active_model_version

    now = time.monotonic()
    with _lock:
        if now - _active["read_at"] < ACTIVE_VERSION_TTL_SECONDS:
            return _active["version"]
    version = active_model_version()
    with _lock:
        _active.update(version=version, read_at=now)
    return version


def forget_active_version() -> None:
    with _lock:
        _active.update(version=None, read_at=float("-inf"))
