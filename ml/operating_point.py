"""How much of the queue a model can take off reviewers' hands at a given precision.

A prediction is auto-accepted when its confidence is at or above a
threshold.  The operating point is the lowest such threshold whose accepted
predictions are still right often enough (precision >= target), i.e. the
largest automation rate that keeps the promised precision.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

from ml.items import PredictionResult

DECIMALS = 4
DEFAULT_TARGET_PRECISION = 0.95


def operating_point(
    predictions: Sequence[PredictionResult],
    true_tags: Sequence[str],
    target_precision: float = DEFAULT_TARGET_PRECISION,
) -> dict[str, Any]:
    """``{"threshold", "automation_rate", "precision", "target_precision"}``.

    Candidate thresholds are the confidences that occur.  Ties: every item
    whose confidence equals the threshold is accepted with it (accept when
    ``confidence >= threshold``), so tied items are never split between
    accepted and reviewed.  Among candidates whose accepted set reaches the
    target, the lowest threshold wins (precision need not fall
    monotonically as the threshold drops; the lowest qualifying one
    automates the most).  When none qualifies (or there are no items)
    ``threshold`` and ``precision`` are None and ``automation_rate`` is 0:
    everything goes to review.
    """
    if len(predictions) != len(true_tags):
        raise ValueError(f"got {len(predictions)} predictions but {len(true_tags)} true tags")
    if not 0 < target_precision <= 1:
        raise ValueError("target_precision must be in (0, 1]")
    confidence = np.asarray([p.confidence for p in predictions], dtype=float)
    correct = np.asarray([p.tag == t for p, t in zip(predictions, true_tags)], dtype=float)
    accepted, precision, thresholds = _accepted_sets(confidence, correct)
    # A tiny tolerance so 19/20 counts as 0.95 despite float rounding.
    qualifies = np.flatnonzero(precision >= target_precision - 1e-12)
    result = {"threshold": None, "automation_rate": 0.0, "precision": None, "target_precision": target_precision}
    if qualifies.size:
        best = qualifies[-1]  # candidates run from the highest threshold down
        result.update(
            threshold=round(float(thresholds[best]), 6),
            automation_rate=round(float(accepted[best] / len(confidence)), DECIMALS),
            precision=round(float(precision[best]), DECIMALS),
        )
    return result


def _accepted_sets(confidence: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct confidence (highest first): items accepted, their precision, the threshold."""
    if confidence.size == 0:
        empty = np.zeros(0)
        return empty, empty, empty
    order = np.argsort(-confidence, kind="stable")
    ranked = confidence[order]
    right = np.cumsum(correct[order])
    # The last position of each run of equal confidences closes a tie group.
    ends = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True))
    accepted = ends + 1
    return accepted, right[ends] / accepted, ranked[ends]
