"""The time-ordered validation (ml.time_validation): newest slices, each predicted by a model of the items before it."""

import pytest

from ml.time_validation import MIN_SLICE, forward_slices, time_ordered_predictions
from tests.tiny_dataset import LABELS, TEXTS


def test_the_newest_slices_are_predicted_by_models_of_everything_before_them():
    assert forward_slices(100, folds=2, share=0.2) == [(range(0, 60), range(60, 80)), (range(0, 80), range(80, 100))]
    assert forward_slices(100, folds=1, share=0.25) == [(range(0, 75), range(75, 100))]


def test_too_few_items_give_no_slices_and_impossible_settings_are_refused():
    assert forward_slices(MIN_SLICE * 5 - 3, folds=2, share=0.2) == []
    with pytest.raises(ValueError, match="folds"):
        forward_slices(100, folds=3, share=0.4)  # nothing left to train the oldest slice's model on
    with pytest.raises(ValueError, match="folds"):
        forward_slices(100, folds=0, share=0.2)


def _drifting(copies: int) -> tuple[list[str], list[str]]:
    """Time-ordered items whose last fifth learnt a new meaning: 'pixel art' and 'word counts' became mlops."""
    texts, labels = [], []
    for copy in range(copies):
        for text, label in zip(TEXTS, LABELS):
            texts.append(f"{text} {copy}")
            labels.append(label)
    newest = len(texts) - len(texts) // 5
    for k in range(newest, len(texts)):
        if texts[k].startswith(("pixel art", "word counts")):
            labels[k] = "mlops"
    return texts, labels


def test_evidence_comes_only_from_the_newest_slices_and_shows_the_drift_the_models_never_saw():
    texts, labels = _drifting(copies=10)  # 120 items: two slices of 24
    evidence = time_ordered_predictions(texts, labels, algorithm="tfidf-linear", folds=2, share=0.2)
    assert len(evidence) == 48
    older, newest = evidence[:24], evidence[24:]
    # The older slice is like its training data; the newest one moved and its model had not seen it.
    assert sum(a.correct for a in older) >= 22
    drifted = [a for k, a in zip(range(96, 120), newest) if texts[k].startswith(("pixel art", "word counts"))]
    assert drifted and not any(a.correct for a in drifted)
    assert all(0 <= a.confidence <= 1 for a in evidence)


def test_only_counted_items_are_evidence_though_all_train():
    texts, labels = _drifting(copies=10)
    counted = [k % 2 == 0 for k in range(len(texts))]
    evidence = time_ordered_predictions(texts, labels, algorithm="tfidf-linear", folds=2, share=0.2, counted=counted)
    assert len(evidence) == 24
