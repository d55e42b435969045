import time

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from ml.bootstrap import bootstrap_intervals

LABELS = ["a", "b", "c", "d"]


def noisy(n: int, seed: int = 1, accuracy: float = 0.8) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    true = list(rng.choice(LABELS, size=n, p=[0.4, 0.3, 0.2, 0.1]))
    pred = [t if rng.random() < accuracy else str(rng.choice(LABELS)) for t in true]
    return true, pred


def width(interval: list[float]) -> float:
    return interval[1] - interval[0]


@pytest.mark.parametrize("n", [12, 100, 1000])
def test_intervals_contain_the_point_estimates(n):
    true, pred = noisy(n)
    report = bootstrap_intervals(true, pred, labels=LABELS)
    points = precision_recall_fscore_support(true, pred, labels=LABELS, average="weighted", zero_division=0)
    for metric, point in zip(("precision", "recall", "f1"), points):
        low, high = report["overall"][metric]
        assert low <= round(point, 4) <= high
    per_class = precision_recall_fscore_support(true, pred, labels=LABELS, average=None, zero_division=0)
    for k, label in enumerate(LABELS):
        for metric, values in zip(("precision", "recall", "f1"), per_class):
            low, high = report["per_class"][label][metric]
            assert low <= round(values[k], 4) <= high


def test_intervals_shrink_with_more_items():
    small = bootstrap_intervals(*noisy(100), labels=LABELS)
    large = bootstrap_intervals(*noisy(2000), labels=LABELS)
    for metric in ("precision", "recall", "f1"):
        assert width(large["overall"][metric]) < width(small["overall"][metric]) / 2


def test_seeded_and_deterministic():
    true, pred = noisy(200)
    first = bootstrap_intervals(true, pred, labels=LABELS, random_state=3)
    assert bootstrap_intervals(true, pred, labels=LABELS, random_state=3) == first
    assert bootstrap_intervals(true, pred, labels=LABELS, random_state=4) != first


def test_perfect_predictions_give_degenerate_intervals():
    true = ["a", "b", "c"] * 10
    report = bootstrap_intervals(true, true, labels=LABELS)
    assert report["overall"] == {"precision": [1.0, 1.0], "recall": [1.0, 1.0], "f1": [1.0, 1.0]}
    assert report["per_class"]["d"]["f1"] == [0.0, 0.0]  # absent label: 0/0 counts as 0


def test_thousand_items_take_well_under_a_second():
    true, pred = noisy(1000)
    started = time.perf_counter()
    report = bootstrap_intervals(true, pred, labels=LABELS, resamples=1000)
    assert time.perf_counter() - started < 1.0
    assert report["resamples"] == 1000 and report["level"] == 0.95


def test_no_items_gives_none_intervals():
    report = bootstrap_intervals([], [], labels=LABELS)
    assert report["overall"]["f1"] is None and report["per_class"]["a"]["recall"] is None
