"""Paired comparison of two models' answers against people's labels."""

import pytest

from ml.paired import accuracy, paired_comparison


def test_counts_each_models_right_answers_and_the_discordant_pairs():
    truth = ["a", "a", "b", "b", "c"]
    result = paired_comparison(truth, ["a", "b", "b", "c", "c"], ["a", "a", "c", "b", "a"])
    assert (result.n, result.baseline.correct, result.candidate.correct) == (5, 3, 3)
    assert (result.only_baseline_right, result.only_candidate_right) == (2, 2)
    assert result.p_value == pytest.approx(1.0)  # 2 against 2 is what chance gives


def test_mcnemar_p_value_is_the_exact_two_sided_binomial_on_discordant_pairs():
    # The candidate alone is right on 9 items, the baseline alone on 1: p = 2 * P(X <= 1), X ~ Bin(10, 0.5).
    truth = ["a"] * 10 + ["b"] * 5
    baseline = ["x"] * 9 + ["a"] + ["b"] * 5
    candidate = ["a"] * 9 + ["x"] + ["b"] * 5
    result = paired_comparison(truth, baseline, candidate)
    assert (result.only_candidate_right, result.only_baseline_right) == (9, 1)
    assert result.p_value == pytest.approx(2 * 11 / 1024)


def test_without_discordant_pairs_there_is_no_p_value_and_nothing_to_judge_gives_none():
    assert paired_comparison(["a"], ["a"], ["a"]).p_value is None
    empty = paired_comparison([], [], [])
    assert (empty.n, empty.baseline.value, empty.baseline.interval) == (0, None, None)


def test_wilson_interval_stays_inside_0_1_and_contains_the_estimate():
    perfect = accuracy(5, 5)
    assert perfect.value == 1.0 and 0.5 < perfect.interval[0] < 1.0 and perfect.interval[1] == pytest.approx(1.0)
    half = accuracy(50, 100)
    assert half.interval[0] == pytest.approx(0.4038, abs=1e-3) and half.interval[1] == pytest.approx(0.5962, abs=1e-3)


def test_answers_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="one answer per item"):
        paired_comparison(["a", "b"], ["a"], ["a", "b"])
