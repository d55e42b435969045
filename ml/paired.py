"""Two models' answers on the same items, judged against what a person decided.

A canary records both models' answers for every item it routes, so once people
have reviewed some of those items the comparison is paired: each item says
whether the baseline, the candidate, both or neither was right.  Only the
items where exactly one was right (the discordant pairs) tell the models
apart, and the exact McNemar test asks whether their split could be chance.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

CONFIDENCE_LEVEL = 0.95


@dataclass(frozen=True)
class Accuracy:
    correct: int
    n: int
    value: float | None  # None when there is nothing to judge
    interval: tuple[float, float] | None  # Wilson score interval at CONFIDENCE_LEVEL


@dataclass(frozen=True)
class PairedComparison:
    n: int
    baseline: Accuracy
    candidate: Accuracy
    only_baseline_right: int
    only_candidate_right: int
    # Two-sided exact McNemar p-value; None without any discordant pair.
    p_value: float | None


def accuracy(correct: int, n: int) -> Accuracy:
    """Share correct, with its Wilson interval (sensible even for 0 or n correct out of few)."""
    if n == 0:
        return Accuracy(correct=0, n=0, value=None, interval=None)
    interval = _binomtest()(correct, n).proportion_ci(confidence_level=CONFIDENCE_LEVEL, method="wilson")
    return Accuracy(correct=correct, n=n, value=correct / n, interval=(interval.low, interval.high))


def paired_comparison(truth: Sequence[str], baseline: Sequence[str], candidate: Sequence[str]) -> PairedComparison:
    """Compare two models' answers item by item against ``truth``."""
    if not len(truth) == len(baseline) == len(candidate):
        raise ValueError(
            f"need one answer per item: {len(truth)} true tags, {len(baseline)} baseline and "
            f"{len(candidate)} candidate answers"
        )
    baseline_right = [b == t for t, b in zip(truth, baseline)]
    candidate_right = [c == t for t, c in zip(truth, candidate)]
    only_baseline = sum(b and not c for b, c in zip(baseline_right, candidate_right))
    only_candidate = sum(c and not b for b, c in zip(baseline_right, candidate_right))
    discordant = only_baseline + only_candidate
    return PairedComparison(
        n=len(truth),
        baseline=accuracy(sum(baseline_right), len(truth)),
        candidate=accuracy(sum(candidate_right), len(truth)),
        only_baseline_right=only_baseline,
        only_candidate_right=only_candidate,
        p_value=_binomtest()(only_candidate, discordant).pvalue if discordant else None,
    )


def _binomtest() -> Callable[..., Any]:
    # Imported on first use: scipy.stats costs ~1 s and ~80 MB, and every web process
    # imports this module at start-up while few ever show a canary's report.
    from scipy.stats import binomtest

    test: Callable[..., Any] = binomtest  # scipy has no annotations
    return test
