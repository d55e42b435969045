"""Find gold labels that are probably wrong, by confident learning.

Labelling mistakes cap what any model can reach and mislead evaluation.
Following confident learning (Northcutt et al., 2021), each class gets a
threshold: the mean probability the model gives that class on the items
labelled with it (its average *self-confidence*).  An item is suspect when
some other class's out-of-fold probability reaches that class's threshold
and also beats the probability of the given label.  Per-class thresholds
matter because models are more confident about some classes than others: a
single global cut-off would flag mostly items of the "hard" classes.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ml.items import PredictionResult

DECIMALS = 4


@dataclass(frozen=True)
class Suspect:
    """Item ``index`` is labelled ``given`` but looks like ``suggested``.

    ``suspicion`` is the margin p(suggested) - p(given), in (0, 1].
    """

    index: int
    given: str
    suggested: str
    suspicion: float


def find_suspects(*, labels: Sequence[str], oof: Sequence[PredictionResult], limit: int) -> list[Suspect]:
    """At most ``limit`` suspects, highest suspicion first (ties: lower index first).

    ``oof`` must be out-of-fold predictions aligned with ``labels`` (e.g.
    :attr:`ml.selection.CrossValidation.oof`): a model's predictions on
    its own training data agree with the labels it memorised.
    """
    if len(labels) != len(oof):
        raise ValueError(f"got {len(labels)} labels but {len(oof)} predictions")
    if limit <= 0:
        return []
    thresholds = class_thresholds(labels, oof)
    found = [
        suspect
        for index, (given, result) in enumerate(zip(labels, oof))
        if (suspect := _judge(index, given, result, thresholds)) is not None
    ]
    found.sort(key=lambda s: (-s.suspicion, s.index))
    return found[:limit]


def class_thresholds(labels: Sequence[str], oof: Sequence[PredictionResult]) -> dict[str, float]:
    """Mean self-confidence of every label that has at least one item."""
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for given, result in zip(labels, oof):
        sums[given] += result.probabilities.get(given, 0.0)
        counts[given] += 1
    return {label: sums[label] / counts[label] for label in counts}


def _judge(index: int, given: str, result: PredictionResult, thresholds: dict[str, float]) -> Suspect | None:
    p_given = result.probabilities.get(given, 0.0)
    # Only classes with a threshold (i.e. with labelled items) can be suggested.
    rivals = [
        (p, label)
        for label, p in result.probabilities.items()
        if label != given and label in thresholds and p >= thresholds[label] and p > p_given
    ]
    if not rivals:
        return None
    p_best, best = max(rivals)
    return Suspect(index=index, given=given, suggested=best, suspicion=round(p_best - p_given, DECIMALS))
