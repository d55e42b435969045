"""Online predictions: one item, the active model, no database writes."""
from dataclasses import dataclass

from ml.prediction import predict
from ml.text import prepare_text
from predictions.model_store import active_version_cached, load_version
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


def predict_text(*, title: str, description: str) -> OnlinePrediction:
    version = active_version_cached()
    if version is None:
        raise NoActiveModel("no model is active yet; train one and promote it")
    [result] = predict(load_version(version), [prepare_text(title, description)])
    return OnlinePrediction(
        tag=result.tag,
        probabilities=result.probabilities,
        confidence=result.confidence,
        model_version=version.number,
        needs_review=result.confidence < review_threshold(version),
    )
