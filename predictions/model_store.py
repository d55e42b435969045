"""Load model artifacts once per process, verified by their sha256."""
import threading
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
