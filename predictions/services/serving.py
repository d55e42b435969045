"""Online predictions: one item, the active model (or a canary's candidate for its share)."""
import logging
from dataclasses import dataclass

from labeling.models import Content
from ml.persistence import ArtifactIntegrityError
from ml.prediction import predict
from ml.text import prepare_text
from predictions.model_store import artifact_path, load_version, serving_state_cached
from predictions.models import CanaryArm, ModelVersion
from predictions.services.canary import arm_for, content_key, serving_record_online, text_key
from predictions.services.thresholds import review_threshold

logger = logging.getLogger(__name__)


class NoActiveModel(Exception):
    """No model version is active yet: train one and promote it."""


class ModelUnavailable(Exception):
    """The model that should answer cannot be loaded: its artifact is missing or altered."""


@dataclass(frozen=True)
class OnlinePrediction:
    tag: str
    probabilities: dict[str, float]
    confidence: float
    model_version: int
    needs_review: bool
    canary: bool = False  # served by a canary's candidate rather than the active model


def predict_text(*, title: str, description: str, content: Content | None = None) -> OnlinePrediction:
    """Tag one text. Without a canary this writes nothing; with one, both answers are recorded.

    ``content`` names the stored item the text belongs to, so a canary serves it with
    the same model as the item's page; without it the text itself decides.
    """
    state = serving_state_cached()
    version = state.active
    if version is None:
        raise NoActiveModel("no model is active yet; train one and promote it")
    text = prepare_text(title, description)
    result = _predict(version, text)
    canary = state.canary
    if canary is None or canary.baseline_id != version.pk:
        return _answer(version, result)
    key = content_key(content.pk) if content is not None else text_key(text)
    arm = arm_for(canary, key)
    if arm is None:  # outside the canary and its control group: no second model, no write
        return _answer(version, result)
    candidate_result = _predict(canary.candidate, text)
    serving_record_online(canary, key=key, arm=arm, content=content, baseline=result, candidate=candidate_result)
    if arm == CanaryArm.CANDIDATE:
        return _answer(canary.candidate, candidate_result, canary=True)
    return _answer(version, result)


_reported_unavailable: set[tuple[int, str]] = set()


def _predict(version: ModelVersion, text: str):
    try:
        model = load_version(version)
    except (FileNotFoundError, ArtifactIntegrityError) as exc:
        # Every request would fail the same way: log it once per process, not once per request.
        if (version.number, version.artifact_sha256) not in _reported_unavailable:
            _reported_unavailable.add((version.number, version.artifact_sha256))
            logger.error("v%s cannot serve: artifact %s: %s", version.number, artifact_path(version), exc)
        what = "missing" if isinstance(exc, FileNotFoundError) else "not the one trained (sha256 differs)"
        raise ModelUnavailable(
            f"the artifact of model v{version.number} is {what} on this server; predictions resume once it is restored"
        ) from exc
    [result] = predict(model, [text])
    return result


def _answer(version, result, *, canary: bool = False) -> OnlinePrediction:
    return OnlinePrediction(
        tag=result.tag,
        probabilities=result.probabilities,
        confidence=result.confidence,
        model_version=version.number,
        needs_review=result.confidence < review_threshold(version),
        canary=canary,
    )
