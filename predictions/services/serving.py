"""Online predictions: one item, the active model (or a canary's candidate for its share)."""
from dataclasses import dataclass

from labeling.models import Content
from ml.prediction import predict
from ml.text import prepare_text
from predictions.model_store import load_version, serving_state_cached
from predictions.models import CanaryArm
from predictions.services.canary import arm_for, content_key, serving_record_online, text_key
from predictions.services.thresholds import review_threshold


class NoActiveModel(Exception):
    """No model version is active yet: train one and promote it."""


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
    [result] = predict(load_version(version), [text])
    canary = state.canary
    if canary is None or canary.baseline_id != version.pk:
        return _answer(version, result)
    key = content_key(content.pk) if content is not None else text_key(text)
    arm = arm_for(canary, key)
    if arm is None:  # outside the canary and its control group: no second model, no write
        return _answer(version, result)
    [candidate_result] = predict(load_version(canary.candidate), [text])
    serving_record_online(canary, key=key, arm=arm, content=content, baseline=result, candidate=candidate_result)
    if arm == CanaryArm.CANDIDATE:
        return _answer(canary.candidate, candidate_result, canary=True)
    return _answer(version, result)


def _answer(version, result, *, canary: bool = False) -> OnlinePrediction:
    return OnlinePrediction(
        tag=result.tag,
        probabilities=result.probabilities,
        confidence=result.confidence,
        model_version=version.number,
        needs_review=result.confidence < review_threshold(version),
        canary=canary,
    )
