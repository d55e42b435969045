"""Operating point on a hand-made example.

confidence: 0.99 0.95 0.90 0.90 0.80 0.70 0.60 0.50
correct:     y    y    y    n    y    y    n    y
accepted at >= 0.99: 1/1, >= 0.95: 2/2, >= 0.90: 3/4 = 0.75, >= 0.80: 4/5 = 0.8,
>= 0.70: 5/6 = 0.833, >= 0.60: 5/7 = 0.714, >= 0.50: 6/8 = 0.75
"""

import pytest

from ml.items import PredictionResult
from ml.operating_point import operating_point

CONFIDENCES = [0.99, 0.95, 0.90, 0.90, 0.80, 0.70, 0.60, 0.50]
CORRECT = [True, True, True, False, True, True, False, True]


def predictions(confidences=CONFIDENCES, correct=CORRECT):
    results, truth = [], []
    for confidence, right in zip(confidences, correct):
        results.append(
            PredictionResult(tag="a", probabilities={"a": confidence, "b": 1 - confidence}, confidence=confidence)
        )
        truth.append("a" if right else "b")
    return results, truth


def test_target_reached_only_by_the_top_two():
    assert operating_point(*predictions(), target_precision=0.95) == {
        "threshold": 0.95,
        "automation_rate": 0.25,
        "precision": 1.0,
        "target_precision": 0.95,
    }


def test_lowest_qualifying_threshold_wins_even_past_a_dip():
    # 0.80 qualifies at 0.8 (4/5) after 0.90 failed (3/4): the lower one automates more.
    assert operating_point(*predictions(), target_precision=0.8) == {
        "threshold": 0.7,
        "automation_rate": 0.75,
        "precision": 0.8333,
        "target_precision": 0.8,
    }


@pytest.mark.parametrize("correct", [[True, True, False], [True, False, True]])
def test_tied_confidences_are_accepted_or_reviewed_together(correct):
    # Taking only the right one of the two tied 0.9s would give 2/2; ties are
    # never split, so 0.9 means 2/3 whatever the input order.
    results, truth = predictions(confidences=[0.95, 0.9, 0.9], correct=correct)
    assert operating_point(results, truth, target_precision=0.9) == {
        "threshold": 0.95,
        "automation_rate": 0.3333,
        "precision": 1.0,
        "target_precision": 0.9,
    }


def test_all_items_when_everything_is_right():
    results, truth = predictions(correct=[True] * 8)
    assert operating_point(results, truth)["automation_rate"] == 1.0
    assert operating_point(results, truth)["threshold"] == 0.5


def test_unreachable_target_reviews_everything():
    results, truth = predictions(correct=[False] + CORRECT[1:])
    assert operating_point(results, truth, target_precision=0.99) == {
        "threshold": None,
        "automation_rate": 0.0,
        "precision": None,
        "target_precision": 0.99,
    }


def test_no_items():
    assert operating_point([], [])["automation_rate"] == 0.0


@pytest.mark.parametrize("target", [0, 1.5])
def test_target_must_be_a_precision(target):
    with pytest.raises(ValueError, match="target_precision"):
        operating_point(*predictions(), target_precision=target)


def test_mismatched_lengths_are_rejected():
    results, truth = predictions()
    with pytest.raises(ValueError, match="8 predictions but 7 true tags"):
        operating_point(results, truth[:7])
