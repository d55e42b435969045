"""Load model artifacts once per process, verified by their sha256."""
import threading
import time
from dataclasses import dataclass
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


# The online API asks "which version is active, and is a canary running?" on every
# request; the answer changes only on a promotion, a rollback or a canary start or stop.
# Each process re-reads it at most once a second (a change reaches every web process
# within that second) and forgets it at once when the change happens in this process.
SERVING_STATE_TTL_SECONDS = 1.0


@dataclass(frozen=True)
class ServingState:
    active: ModelVersion | None
    canary: object | None  # the running predictions.models.Canary, its versions loaded


_serving: dict = {"state": ServingState(None, None), "read_at": float("-inf")}


def serving_state_cached() -> ServingState:
    from predictions.selectors import active_model_version, running_canary

    now = time.monotonic()
    with _lock:
        if now - _serving["read_at"] < SERVING_STATE_TTL_SECONDS:
            return _serving["state"]
    state = ServingState(active=active_model_version(), canary=running_canary())
    with _lock:
        _serving.update(state=state, read_at=now)
    return state


def active_version_cached() -> ModelVersion | None:
    return serving_state_cached().active


def forget_serving_state() -> None:
    with _lock:
        _serving.update(state=ServingState(None, None), read_at=float("-inf"))
