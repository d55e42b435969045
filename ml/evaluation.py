"""Score predictions against true tags.

Overall and per-class precision/recall/F1 (with bootstrap intervals), the
confusion matrix, slices, calibration and the auto-accept operating point.
The result is plain JSON-serialisable data so it can be stored next to a
model version and rendered without any ML library.
"""

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, SupportsFloat

from ml.bootstrap import DEFAULT_RESAMPLES, bootstrap_intervals
from ml.calibration import calibration_report
from ml.items import LabelledItem, PredictionResult
from ml.operating_point import DEFAULT_TARGET_PRECISION, operating_point
from ml.slices import SLICES, SliceFunction

DECIMALS = 4


def evaluate(
    *,
    items: list[LabelledItem],
    predictions: list[PredictionResult],
    labels: list[str],
    slices: Mapping[str, SliceFunction] | None = None,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    resamples: int = DEFAULT_RESAMPLES,
    random_state: int = 0,
) -> dict[str, Any]:
    """Metrics of ``predictions`` (aligned with ``items``) over the full label set ``labels``.

    Averages are support-weighted and a 0/0 ratio counts as 0.  ``slices``
    defaults to the registry in :mod:`ml.slices`.  Keys: ``n``, ``overall``,
    ``per_class``, ``confusion_matrix``, ``slices`` (as before), plus
    ``intervals`` (bootstrap, ``resamples`` seeded with ``random_state``, see
    :func:`ml.bootstrap.bootstrap_intervals`), ``calibration`` (ECE and
    reliability bins) and ``operating_point`` at ``target_precision``.
    Evaluate out-of-fold or held-out predictions: on training data every
    one of these is optimistic.
    """
    labels = list(dict.fromkeys(labels))  # de-duplicate, keep the caller's order
    y_true = [item.tag for item in items]
    y_pred = [prediction.tag for prediction in predictions]
    _check_inputs(y_true=y_true, y_pred=y_pred, labels=labels)
    return {
        "n": len(y_true),
        "overall": overall_metrics(y_true, y_pred, labels=labels),
        "per_class": per_class_metrics(y_true, y_pred, labels=labels),
        "confusion_matrix": {
            "labels": labels,
            "matrix": _confusion(y_true, y_pred, labels=labels),
        },
        "slices": slice_metrics(items, y_pred, labels=labels, slices=SLICES if slices is None else slices),
        "intervals": bootstrap_intervals(y_true, y_pred, labels=labels, resamples=resamples, random_state=random_state),
        "calibration": calibration_report(
            [p.confidence for p in predictions], [t == p for t, p in zip(y_true, y_pred)]
        ),
        "operating_point": operating_point(predictions, y_true, target_precision),
    }


def overall_metrics(y_true: Sequence[str], y_pred: Sequence[str], *, labels: list[str]) -> dict[str, Any]:
    if not y_true:
        return {"precision": None, "recall": None, "f1": None, "accuracy": None}
    precision, recall, f1 = _weighted(y_true, y_pred, labels=labels)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": _round(_metrics().accuracy_score(y_true, y_pred)),
    }


def per_class_metrics(y_true: Sequence[str], y_pred: Sequence[str], *, labels: list[str]) -> dict[str, Any]:
    if not y_true:
        return {label: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0} for label in labels}
    precision, recall, f1, support = _metrics().precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    return {
        label: {"precision": _round(p), "recall": _round(r), "f1": _round(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }


def slice_metrics(
    items: Sequence[LabelledItem], y_pred: Sequence[str], *, labels: list[str], slices: Mapping[str, SliceFunction]
) -> dict[str, Any]:
    report = {}
    for name, belongs in slices.items():
        members = [i for i, item in enumerate(items) if belongs(item)]
        report[name] = _slice_report([items[i].tag for i in members], [y_pred[i] for i in members], labels=labels)
    return report


def _slice_report(y_true: list[str], y_pred: list[str], *, labels: list[str]) -> dict[str, Any]:
    if not y_true:
        # No members: metrics are undefined, not zero.
        return {"n": 0, "precision": None, "recall": None, "f1": None}
    precision, recall, f1 = _weighted(y_true, y_pred, labels=labels)
    return {"n": len(y_true), "precision": precision, "recall": recall, "f1": f1}


def _weighted(y_true: Sequence[str], y_pred: Sequence[str], *, labels: list[str]) -> tuple[float, float, float]:
    precision, recall, f1, _ = _metrics().precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average="weighted", zero_division=0
    )
    return _round(precision), _round(recall), _round(f1)


def _confusion(y_true: Sequence[str], y_pred: Sequence[str], *, labels: list[str]) -> list[list[int]]:
    if not y_true:
        return [[0] * len(labels) for _ in labels]
    matrix: list[list[int]] = _metrics().confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return matrix


def _check_inputs(*, y_true: list[str], y_pred: list[str], labels: list[str]) -> None:
    if len(y_true) != len(y_pred):
        raise ValueError(f"got {len(y_true)} items but {len(y_pred)} predictions")
    # A tag outside `labels` would silently vanish from the confusion matrix.
    unknown = sorted(set(y_true).union(y_pred).difference(labels))
    if unknown:
        raise ValueError(f"tags not in the label set: {', '.join(unknown)}")


def _round(value: SupportsFloat) -> float:
    return round(float(value), DECIMALS)


def _metrics() -> ModuleType:
    # Imported on first use: scikit-learn costs ~1 s and ~100 MB, and every web process
    # imports this module at start-up (monitoring, comparison) while few pages evaluate.
    import sklearn.metrics

    metrics: ModuleType = sklearn.metrics  # scikit-learn has no annotations
    return metrics
