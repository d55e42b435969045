"""Turn a fitted pipeline's probabilities into PredictionResult objects."""

import numpy as np
import sklearn
from sklearn.pipeline import Pipeline

from ml.items import PredictionResult

DECIMALS = 6


def predict(model: Pipeline, texts: list[str]) -> list[PredictionResult]:
    """One result per text (texts already prepared), in input order."""
    if not texts:
        return []  # predict_proba rejects empty input
    # Inputs were validated when the model was fitted and features from our
    # own pipelines are finite; skipping the re-checks saves ~15% of a
    # single-item call, which is where interactive latency goes.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        probabilities = model.predict_proba(list(texts))
    labels = [str(label) for label in model.classes_]
    return [_result(row, labels) for row in probabilities]


def _result(row: np.ndarray, labels: list[str]) -> PredictionResult:
    # The tag is the argmax of the probabilities themselves (not model.predict)
    # so tag, confidence and probabilities can never disagree.
    best = int(np.argmax(row))
    probabilities = {label: round(float(p), DECIMALS) for label, p in zip(labels, row)}
    return PredictionResult(tag=labels[best], probabilities=probabilities,
                            confidence=round(float(row[best]), DECIMALS))
