"""Window drift tests (ml.drift): each fires on an obvious shift and stays quiet otherwise."""

import csv
import random
import time
from pathlib import Path

import pytest

from ml.drift import (
    DriftTest,
    WindowData,
    domain_classifier_test,
    ks_test,
    oov_shares,
    overall_drift,
    run_window_checks,
    tag_distribution_test,
)
from ml.offtopic import read_offtopic_samples
from ml.text import prepare_text

DATASET = Path(__file__).resolve().parents[2] / "data" / "madewithml_dataset.csv"
NAMES = ["predicted-tags", "confidence", "text-length", "oov-share", "domain-classifier"]


@pytest.fixture(scope="module")
def items() -> list[tuple[str, str]]:
    """(prepared text, tag) of every dataset row, in a fixed shuffled order."""
    with DATASET.open(newline="", encoding="utf-8") as handle:
        rows = [(prepare_text(r["title"], r["description"]), r["tag"]) for r in csv.DictReader(handle)]
    random.Random(0).shuffle(rows)
    return rows


def window(pairs, confidence_range=(0.4, 1.0), seed=0) -> WindowData:
    """Dataset items as a window; the tag stands in for the prediction, confidences are seeded."""
    rng = random.Random(seed)
    return WindowData(
        [text for text, _ in pairs], [tag for _, tag in pairs], [rng.uniform(*confidence_range) for _ in pairs]
    )


@pytest.fixture(scope="module")
def reference(items) -> WindowData:
    return window(items[:150], seed=1)


@pytest.fixture(scope="module")
def same(items) -> WindowData:
    return window(items[150:250], seed=2)


def by_name(tests: list[DriftTest]) -> dict[str, DriftTest]:
    return {test.name: test for test in tests}


def test_a_same_distribution_window_raises_no_alarm(reference, same):
    tests = run_window_checks(reference, same)
    assert [t.name for t in tests] == NAMES
    assert [t.name for t in tests if t.drifted] == []
    assert all(0.0 <= t.p_value <= 1.0 and t.alpha == 0.01 for t in tests)
    assert not overall_drift(tests).drifted


def test_tag_test_fires_when_the_predicted_tags_change(reference, same):
    shifted = WindowData(same.texts, ["mlops"] * 60 + same.tags[60:], same.confidences)
    assert by_name(run_window_checks(reference, shifted))["predicted-tags"].drifted


def test_confidence_test_fires_when_the_model_becomes_unsure(reference, items):
    unsure = window(items[150:250], confidence_range=(0.3, 0.6), seed=2)
    assert by_name(run_window_checks(reference, unsure))["confidence"].drifted


def test_length_test_fires_on_title_only_items(reference, items):
    with DATASET.open(newline="", encoding="utf-8") as handle:
        titles = [prepare_text(r["title"], "") for r in list(csv.DictReader(handle))[:100]]
    short = WindowData(titles, [tag for _, tag in items[150:250]], [0.7] * 100)
    result = by_name(run_window_checks(reference, short))
    assert result["text-length"].drifted
    assert result["text-length"].details["window_median"] < result["text-length"].details["reference_median"]


def offtopic_window(same: WindowData, share: float) -> WindowData:
    n = round(len(same) * share)
    texts = [prepare_text(s.title, s.description) for s in read_offtopic_samples()[:n]]
    return WindowData(same.texts[n:] + texts, same.tags, same.confidences)


def test_oov_and_domain_tests_fire_on_offtopic_text(reference, same):
    # Tags and confidences unchanged: only the text tells.
    result = by_name(run_window_checks(reference, offtopic_window(same, 0.5)))
    assert result["oov-share"].drifted
    assert result["domain-classifier"].drifted
    assert result["domain-classifier"].details["auc"] > result["domain-classifier"].details["null_auc_mean"]


def test_domain_classifier_fires_on_a_topic_shift_that_keeps_the_vocabulary(items):
    vision = [text for text, tag in items if tag == "computer-vision"]
    language = [text for text, tag in items if tag == "natural-language-processing"]
    assert domain_classifier_test(vision[:150], language[:100]).drifted
    assert not domain_classifier_test(vision[:150], vision[150:250]).drifted


def test_ks_test_reports_the_statistic():
    quiet = ks_test("x", [i / 100 for i in range(100)], [i / 100 + 0.005 for i in range(100)])
    loud = ks_test("x", [i / 100 for i in range(100)], [i / 100 + 0.5 for i in range(100)])
    assert not quiet.drifted and quiet.statistic < 0.05
    assert loud.drifted and loud.statistic == pytest.approx(0.5, abs=0.02)


def test_rare_tags_are_merged_until_expected_counts_reach_five():
    reference = ["cv"] * 70 + ["nlp"] * 70 + ["mlops"] * 5 + ["other"] * 5
    window_tags = ["cv"] * 48 + ["nlp"] * 48 + ["mlops"] * 2 + ["retired"] * 2
    result = tag_distribution_test(reference, window_tags)
    assert result.details["columns"] == ["cv", "nlp", "mlops+other+retired"]
    assert result.details["window_counts"] == [48, 48, 4]
    assert result.details["dof"] == 2 and not result.drifted


def test_a_single_category_cannot_drift():
    result = tag_distribution_test(["cv"] * 150, ["cv"] * 100)
    assert result.p_value == 1.0 and not result.drifted


def test_oov_shares_leave_each_reference_item_out():
    reference, window_ = oov_shares(["graph neural network", "graph convolution network"], ["graph cooking recipe", ""])
    assert reference == [pytest.approx(1 / 3), pytest.approx(1 / 3)]  # "neural" / "convolution"
    assert window_ == [pytest.approx(2 / 3), 1.0]
    assert oov_shares(["graph"], ["cake"], vocabulary={"graph"}) == ([0.0], [1.0])


def test_overall_alarm_is_bonferroni_corrected():
    tests = [DriftTest(f"t{i}", 0.0, p, 0.01, p <= 0.01, {}) for i, p in enumerate([0.004, 0.5, 0.9])]
    overall = overall_drift(tests)
    assert overall.p_value == pytest.approx(0.012) and not overall.drifted
    assert overall_drift(tests[:2]).drifted  # 0.004 * 2 <= 0.01


def test_window_data_lengths_must_match():
    with pytest.raises(ValueError):
        WindowData(["a", "b"], ["x"], [0.5, 0.5])
    with pytest.raises(ValueError):
        run_window_checks(WindowData([], [], []), WindowData(["a"], ["x"], [0.5]))


def test_window_checks_are_deterministic_and_fast(reference, same):
    started = time.perf_counter()
    first = run_window_checks(reference, offtopic_window(same, 0.3))
    elapsed = time.perf_counter() - started
    assert first == run_window_checks(reference, offtopic_window(same, 0.3))
    assert elapsed < 2.0
