"""The loop benchmark's headline rule: mean curves, interpolated labels needed, the verdict."""

from collections import Counter
from pathlib import Path

import pytest

from benchmarks.bench_loop import (
    Need,
    Point,
    _parse_args,
    bootstrap_ratios,
    headline_ratio,
    labels_needed,
    mean_points,
    run_all,
    run_keys,
    sweep,
    time_stream,
    verdict,
)
from benchmarks.loop_simulation import RoundResult, Stream, weighted_f1


def curve(*pairs: tuple[float, float]) -> list[Point]:
    return [Point(str(k), labels, f1) for k, (labels, f1) in enumerate(pairs)]


def test_labels_needed_interpolates_where_the_curve_last_rises_to_the_target():
    # Reaches 0.88 between 100 and 200, dips at 300, and rises for good between 300 and 400.
    points = curve((0, 0.70), (100, 0.80), (200, 0.90), (300, 0.85), (400, 0.95))
    need = labels_needed(points, 0.88)
    assert need.labels == pytest.approx(330)
    assert need.between == ("3", "4")


def test_labels_needed_at_the_ends_of_the_curve():
    assert labels_needed(curve((0, 0.9), (50, 0.95)), 0.88) == Need(labels=0, between=None)
    assert labels_needed(curve((0, 0.7), (50, 0.95), (90, 0.87)), 0.88) == Need(None, None)
    exact = labels_needed(curve((0, 0.7), (50, 0.88), (90, 0.89)), 0.88)
    assert exact.labels == pytest.approx(50)


def test_mean_points_average_budget_by_budget():
    mean = mean_points([curve((0, 0.7), (10, 0.8)), curve((0, 0.8), (20, 0.9))])
    assert [(p.labels, p.f1) for p in mean] == [(0, pytest.approx(0.75)), (15, pytest.approx(0.85))]


def test_verdict_is_met_at_half_and_not_above():
    assert verdict(Need(100, None), Need(200, None)).startswith("met (uncertainty / random = 0.50)")
    assert verdict(Need(101, None), Need(200, None)).startswith("NOT met")
    assert verdict(Need(None, None), Need(200, None)).startswith("NOT met")
    assert verdict(Need(100, None), Need(None, None)).startswith("undetermined")


def _run(labels: int, f1: float) -> list[RoundResult]:
    return [
        RoundResult(
            round=1,
            labels_spent=labels,
            queued=0,
            carried=0,
            reported=0,
            answered=0,
            backlog=0,
            auto_accept_share=None,
            auto_precision=None,
            rest_f1=f1,
            rest_size=1,
            threshold=0.5,
            threshold_source="fake",
        )
    ]


def test_both_curves_share_their_ends_and_the_headline_uses_the_mean_curves():
    results = {}
    for seed, shift in ((0, 0.0), (1, 0.02)):
        results[("uncertainty", 0, seed)] = _run(0, 0.70 + shift)
        results[("everything", None, seed)] = _run(400, 0.90 + shift)
        results[("uncertainty", 10, seed)] = _run(100, 0.90 + shift)
        results[("random", 10, seed)] = _run(100, 0.80 + shift)
    sweeps = {order: sweep(results, order, [10], [0, 1]) for order in ("uncertainty", "random")}
    for order in sweeps:
        assert [p.budget for p in sweeps[order][0]] == ["no labels", "10", "everything"]
    assert sweeps["uncertainty"][1][-1] == sweeps["random"][1][-1]
    everything = [0.90, 0.92]
    # Target 0.91 - 0.01 = 0.90: uncertainty's mean curve rises to it between 0 (0.71)
    # and 100 labels (0.91): at 95; random's between 100 (0.81) and 400 (0.91): at 370.
    assert headline_ratio(sweeps, everything, 0.01) == pytest.approx(95 / 370)
    ratios = bootstrap_ratios(sweeps, everything, 0.01, resamples=50)
    assert len(ratios) == 50 and all(0 < r < 0.5 for r in ratios)


def test_every_budget_and_seed_runs_both_orders_and_the_references():
    keys = run_keys([8, 16], [0, 1])
    for seed in (0, 1):
        for budget in (8, 16):
            assert ("uncertainty", budget, seed) in keys and ("random", budget, seed) in keys
        assert {("everything", None, seed), ("uncertainty", None, seed), ("uncertainty", 0, seed)} <= set(keys)
    assert len(keys) == len(set(keys)) == 2 * (2 * 2 + 3)


def test_a_development_split_never_contains_the_default_runs_holdout():
    dataset = Path(__file__).resolve().parents[2] / "data" / "madewithml_dataset.csv"
    default = time_stream(dataset, 0.10, 0.20, 6)
    development = time_stream(dataset, 0.10, 0.20, 6, exclude_newest=0.20)
    holdout = {default.texts[i] for i in default.holdout}
    assert len(development.texts) == len(default.texts) - len(default.holdout)
    assert not holdout & set(development.texts)
    # The development split is cut like the default one: its own seed, rounds and newest holdout.
    assert development.holdout == list(range(len(development.texts) - len(development.holdout), len(development.texts)))
    assert development.texts[: len(development.seed)] == default.texts[: len(development.seed)]


def test_the_chosen_algorithm_is_the_one_retrained_every_round():
    tags = ["mlops"] * 6 + ["computer-vision"] * 4 + ["mlops", "computer-vision"] * 6
    stream = Stream(
        texts=[f"item {k}" for k in range(len(tags))],
        tags=tags,
        seed=list(range(10)),
        rounds=[list(range(10, 16)), list(range(16, 20))],
        holdout=list(range(20, 22)),
    )
    args = _parse_args(
        ["--algorithm", "majority", "--budgets", "2", "--table-budget", "2", "--seeds", "0", "--jobs", "1"]
    )
    runs = run_all(stream, args)
    # Every model predicts the majority of its own training set: mlops at first, and
    # mlops still when all 10 streamed items are labelled (5 more of each tag).
    rest = stream.rounds[1] + stream.holdout
    assert Counter(tags[:10]).most_common(1)[0][0] == "mlops"
    assert runs[("everything", None, 0)][1].rest_f1 == pytest.approx(
        weighted_f1(stream, rest, ["mlops"] * len(rest), sorted(set(tags)))
    )
    assert _parse_args([]).algorithm == "tfidf-linear"
