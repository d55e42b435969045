"""How far a model's confidence can be taken at face value.

A reviewer threshold only means something if "0.9 confident" is right about
90% of the time.  The reliability curve compares, per confidence bin, the
mean confidence with the observed accuracy; the expected calibration error
(ECE) is their gap averaged with the bins' item counts as weights.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

DECIMALS = 4
DEFAULT_BINS = 10


def calibration_report(
    confidences: Sequence[float], correct: Sequence[bool], *, bins: int = DEFAULT_BINS
) -> dict[str, Any]:
    """``{"ece", "bins": [{"lower", "upper", "confidence", "accuracy", "count"}]}``.

    Bins are equal-width over [0, 1]: bin k holds confidences in
    [k/bins, (k+1)/bins), the last one also 1.0.  Every bin is listed so a
    chart has a fixed x axis; an empty bin has count 0 and None means.  ECE
    is None when there are no items.
    """
    confidence = np.asarray(confidences, dtype=float)
    hit = np.asarray(correct, dtype=float)
    if confidence.shape != hit.shape:
        raise ValueError(f"got {confidence.size} confidences but {hit.size} outcomes")
    # floor(c * bins) puts a boundary value such as 0.8 in the bin it opens.
    index = np.clip(np.floor(confidence * bins).astype(int), 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    mean_confidence = _mean_per_bin(index, confidence, count, bins)
    accuracy = _mean_per_bin(index, hit, count, bins)
    gaps = np.abs(np.nan_to_num(mean_confidence - accuracy))
    ece = float((gaps * count).sum() / count.sum()) if count.sum() else None
    return {
        "ece": None if ece is None else round(ece, DECIMALS),
        "bins": [_bin(k, bins, mean_confidence[k], accuracy[k], count[k]) for k in range(bins)],
    }


def _mean_per_bin(index: np.ndarray, values: np.ndarray, count: np.ndarray, bins: int) -> np.ndarray:
    sums = np.bincount(index, weights=values, minlength=bins)
    means: np.ndarray = np.divide(sums, count, out=np.full(bins, np.nan), where=count > 0)
    return means


def _bin(k: int, bins: int, confidence: float, accuracy: float, count: int) -> dict[str, Any]:
    empty = count == 0
    return {
        "lower": round(k / bins, DECIMALS),
        "upper": round((k + 1) / bins, DECIMALS),
        "confidence": None if empty else round(float(confidence), DECIMALS),
        "accuracy": None if empty else round(float(accuracy), DECIMALS),
        "count": int(count),
    }
