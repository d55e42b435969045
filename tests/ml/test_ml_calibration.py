import pytest

from ml.calibration import calibration_report


def test_perfectly_calibrated_toy_has_zero_ece():
    # 10 items at 0.8 with 8 right, 5 at 0.6 with 3 right, 4 at 0.25 with 1 right.
    confidences = [0.8] * 10 + [0.6] * 5 + [0.25] * 4
    correct = [True] * 8 + [False] * 2 + [True] * 3 + [False] * 2 + [True] + [False] * 3
    report = calibration_report(confidences, correct)
    assert report["ece"] == 0.0
    by_lower = {b["lower"]: b for b in report["bins"] if b["count"]}
    assert by_lower[0.8] == {"lower": 0.8, "upper": 0.9, "confidence": 0.8, "accuracy": 0.8, "count": 10}
    assert by_lower[0.6]["accuracy"] == 0.6 and by_lower[0.2]["count"] == 4


def test_overconfident_model_has_the_gap_as_ece():
    report = calibration_report([0.9] * 10, [True] * 5 + [False] * 5)
    assert report["ece"] == 0.4


def test_ece_weights_bins_by_count():
    # bin 0.9: 4 items, gap |0.95 - 0.5| = 0.45; bin 0.5: 6 items, gap |0.5 - 0.5| = 0.
    report = calibration_report([0.95] * 4 + [0.5] * 6, [True, True, False, False] + [True] * 3 + [False] * 3)
    assert report["ece"] == pytest.approx(0.45 * 4 / 10, abs=1e-4)


def test_every_bin_is_listed_and_empty_bins_have_no_means():
    report = calibration_report([1.0, 0.0], [True, False], bins=5)
    assert [(b["lower"], b["upper"]) for b in report["bins"]] == [
        (0.0, 0.2),
        (0.2, 0.4),
        (0.4, 0.6),
        (0.6, 0.8),
        (0.8, 1.0),
    ]
    assert report["bins"][4]["count"] == 1  # 1.0 lands in the last, closed bin
    assert report["bins"][2] == {"lower": 0.4, "upper": 0.6, "confidence": None, "accuracy": None, "count": 0}


def test_no_items_gives_none_ece():
    report = calibration_report([], [])
    assert report["ece"] is None and sum(b["count"] for b in report["bins"]) == 0


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="2 confidences but 1 outcomes"):
        calibration_report([0.5, 0.6], [True])
