"""The human-in-the-loop simulation: budget, orders, carried-over backlog, reports, unseen-rest metrics."""

from collections.abc import Set

import numpy as np
import pytest

from benchmarks.loop_simulation import (
    FALLBACK_THRESHOLD,
    Fitted,
    LoopConfig,
    Stream,
    rest_indices,
    review_threshold,
    simulate,
)
from ml.items import PredictionResult

A, B = "a", "b"
FLIP = {A: B, B: A}


class FakeModel:
    """Answers from fixed tables (index -> tag, confidence), one per fit (the last one repeats).

    Records every training set and every text it was asked to predict.
    """

    def __init__(self, stream: Stream, *tables: dict[int, tuple[str, float]], threshold: float = 0.5):
        self.stream = stream
        self.tables = tables
        self.threshold = threshold
        self.training_sets: list[set[int]] = []
        self.predicted: list[set[int]] = []

    def fit(self, texts: list[str], tags: list[str], config: LoopConfig) -> Fitted:
        self.training_sets.append({self.stream.texts.index(t) for t in texts})
        table = self.tables[min(len(self.training_sets), len(self.tables)) - 1]
        return Fitted(predict=lambda batch: self._predict(table, batch), threshold=self.threshold, source="fake")

    def _predict(self, table: dict[int, tuple[str, float]], texts: list[str]) -> list[PredictionResult]:
        indices = [self.stream.texts.index(t) for t in texts]
        self.predicted.append(set(indices))
        results = []
        for i in indices:
            tag, confidence = table[i]
            results.append(
                PredictionResult(
                    tag=tag, confidence=confidence, probabilities={tag: confidence, FLIP[tag]: 1 - confidence}
                )
            )
        return results

    def new_labels(self, fit_number: int) -> set[int]:
        return self.training_sets[fit_number] - self.training_sets[fit_number - 1]


def make_stream(n: int, seed: int, round_size: int, holdout: int) -> Stream:
    tags = [A if i % 2 == 0 else B for i in range(n)]
    rounds = [
        list(range(start, min(start + round_size, n - holdout))) for start in range(seed, n - holdout, round_size)
    ]
    return Stream(
        texts=[f"item {i}" for i in range(n)],
        tags=tags,
        seed=list(range(seed)),
        rounds=rounds,
        holdout=list(range(n - holdout, n)),
    )


def table(
    stream: Stream, confidence: dict[int, float] | None = None, wrong: Set[int] = frozenset()
) -> dict[int, tuple[str, float]]:
    """Right on every item but ``wrong``, with the given (default 0.9) confidence per index."""
    confidence = confidence or {}
    return {i: (FLIP[tag] if i in wrong else tag, confidence.get(i, 0.9)) for i, tag in enumerate(stream.tags)}


def test_answers_stay_within_the_per_round_budget():
    stream = make_stream(34, seed=4, round_size=10, holdout=0)
    for order in ("uncertainty", "random"):
        model = FakeModel(stream, table(stream, {i: 0.3 for i in range(34)}))
        results = simulate(stream, LoopConfig(order=order, budget=3), fit=model.fit)
        assert [r.answered for r in results[1:]] == [3, 3, 3]
        assert [r.labels_spent for r in results] == [0, 3, 6, 9]
        # The training set grows by exactly the answers.
        assert [len(s) for s in model.training_sets] == [4, 7, 10, 13]


def test_unanswered_items_are_carried_over_to_the_next_round():
    stream = make_stream(24, seed=4, round_size=10, holdout=0)
    # Round 1 (items 4-13) is all below the threshold, round 2 (14-23) all confident.
    model = FakeModel(stream, table(stream, {i: 0.1 + i / 100 for i in range(4, 14)}))
    results = simulate(stream, LoopConfig(order="uncertainty", budget=3), fit=model.fit)
    assert model.new_labels(1) == {4, 5, 6}
    assert [(r.queued, r.carried, r.backlog) for r in results[1:]] == [(10, 0, 7), (7, 7, 4)]
    # Round 2's own items are confident: its labels go to the round-1 backlog.
    assert model.new_labels(2) == {7, 8, 9}


def test_the_backlog_is_re_ranked_by_each_retrained_model():
    stream = make_stream(24, seed=4, round_size=10, holdout=0)
    low = {i: 0.1 + i / 100 for i in range(4, 14)}
    first = table(stream, low)
    # The retrained model is surest about 5-7 and least sure about 13, then 12, 11.
    second = table(stream, {**low, 13: 0.01, 12: 0.02, 11: 0.03, 5: 0.45, 6: 0.45, 7: 0.45})
    model = FakeModel(stream, first, second)
    simulate(stream, LoopConfig(order="uncertainty", budget=3), fit=model.fit)
    assert model.new_labels(1) == {4, 5, 6}
    assert model.new_labels(2) == {11, 12, 13}


def test_items_a_new_model_is_sure_of_leave_the_queue_but_spare_budget_still_reaches_them():
    stream = make_stream(24, seed=4, round_size=10, holdout=0)
    first = table(stream, {i: 0.2 for i in range(4, 14)})
    second = table(stream, {i: 0.6 + i / 100 for i in range(4, 24)})  # everything above 0.5
    model = FakeModel(stream, first, second)
    results = simulate(stream, LoopConfig(order="uncertainty", budget=4), fit=model.fit)
    assert results[2].queued == 0 and results[2].answered == 4
    # The least confident of the pool (the backlog 8-13 and round 2's 14-23).
    assert model.new_labels(2) == {8, 9, 10, 11}


def test_random_order_samples_the_whole_pool_whatever_the_confidence():
    stream = make_stream(44, seed=4, round_size=20, holdout=0)
    picks = []
    for confidence in ({4: 0.1, 24: 0.1}, {i: i / 100 for i in range(44)}):
        model = FakeModel(stream, table(stream, confidence))
        results = simulate(stream, LoopConfig(order="random", budget=5, seed=1), fit=model.fit)
        assert [r.answered for r in results[1:]] == [5, 5]
        picks.append([model.new_labels(1), model.new_labels(2)])
    # The model's confidences (and so its queue) change nothing.
    assert picks[0] == picks[1]
    # Round 2 draws from its own items and round 1's leftovers alike.
    assert picks[0][1] <= set(range(4, 44)) - picks[0][0]


def test_random_order_is_seeded_and_reaches_confident_items():
    stream = make_stream(44, seed=4, round_size=20, holdout=0)
    # Only items 4 and 5 are below the threshold.
    model = FakeModel(stream, table(stream, {4: 0.1, 5: 0.1}))

    def run(seed: int) -> list[set[int]]:
        model.training_sets.clear()
        simulate(stream, LoopConfig(order="random", budget=5, seed=seed), fit=model.fit)
        return [model.new_labels(k) for k in (1, 2)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    # Over seeds, random order labels items the queue would never hold.
    assert any(run(seed)[0] - {4, 5} for seed in range(3))


def test_uncertainty_order_takes_the_least_confident_first():
    stream = make_stream(14, seed=4, round_size=10, holdout=0)
    confidence = {4: 0.40, 5: 0.10, 6: 0.35, 7: 0.20, 8: 0.45, 9: 0.30, 10: 0.49, 11: 0.15, 12: 0.42, 13: 0.25}
    model = FakeModel(stream, table(stream, confidence))
    simulate(stream, LoopConfig(order="uncertainty", budget=3), fit=model.fit)
    assert model.new_labels(1) == {5, 11, 7}


@pytest.mark.parametrize("order", ["uncertainty", "random"])
def test_reports_are_answered_first_in_both_orders(order):
    stream = make_stream(16, seed=4, round_size=12, holdout=0)
    # 5 is wrong but confident (shown, so reportable); 6 and 7 are below the threshold.
    model = FakeModel(stream, table(stream, {6: 0.2, 7: 0.1}, wrong={5, 6}))
    results = simulate(stream, LoopConfig(order=order, budget=1, report_rate=1.0), fit=model.fit)
    assert results[1].reported == 1 and results[1].queued == 3
    assert model.new_labels(1) == {5}
    assert results[1].auto_precision == pytest.approx(9 / 10)
    assert results[1].auto_accept_share == pytest.approx(10 / 12)


def test_report_draws_do_not_depend_on_the_order():
    stream = make_stream(64, seed=4, round_size=30, holdout=0)
    wrong = set(range(4, 64, 3))
    reported = {}
    for order in ("uncertainty", "random"):
        model = FakeModel(stream, table(stream, wrong=wrong))
        results = simulate(stream, LoopConfig(order=order, budget=0, report_rate=0.5, seed=3), fit=model.fit)
        reported[order] = [r.reported for r in results]
    assert reported["uncertainty"] == reported["random"]
    assert 0 < sum(reported["random"]) < len(wrong)


def test_an_open_report_stays_open_until_answered():
    stream = make_stream(24, seed=4, round_size=10, holdout=0)
    model = FakeModel(stream, table(stream, wrong={5, 7, 9}))
    results = simulate(stream, LoopConfig(budget=1, report_rate=1.0), fit=model.fit)
    assert [r.reported for r in results[1:]] == [3, 0]  # each item is reported once
    assert [r.queued for r in results[1:]] == [3, 2]
    assert model.new_labels(1) | model.new_labels(2) <= {5, 7, 9}


def test_budget_none_answers_exactly_the_review_queue():
    stream = make_stream(24, seed=4, round_size=10, holdout=0)
    model = FakeModel(stream, table(stream, {4: 0.2, 9: 0.3, 15: 0.1}, wrong={6}))
    results = simulate(stream, LoopConfig(budget=None, report_rate=1.0), fit=model.fit)
    assert model.new_labels(1) == {4, 6, 9}
    assert model.new_labels(2) == {15}
    assert [r.backlog for r in results[1:]] == [0, 0]


def test_everything_labels_every_streamed_item_and_never_the_holdout():
    stream = make_stream(30, seed=6, round_size=8, holdout=6)
    model = FakeModel(stream, table(stream))
    results = simulate(stream, LoopConfig(order="everything", budget=1), fit=model.fit)
    assert results[-1].labels_spent == 18
    assert model.training_sets[-1] == set(range(24))


@pytest.mark.parametrize("order", ["uncertainty", "random", "everything"])
def test_no_model_is_evaluated_on_what_it_was_trained_on(order):
    stream = make_stream(40, seed=6, round_size=8, holdout=8)
    model = FakeModel(stream, table(stream, {i: 0.2 for i in range(40) if i % 3 == 0}))
    simulate(stream, LoopConfig(order=order, budget=5), fit=model.fit)
    assert len(model.predicted) == len(model.training_sets)
    for trained, predicted in zip(model.training_sets, model.predicted):
        assert not trained & predicted
    assert not model.training_sets[-1] & set(stream.holdout)


def test_rest_is_what_has_not_been_streamed_yet():
    stream = make_stream(20, seed=4, round_size=5, holdout=6)
    assert rest_indices(stream, 0) == list(range(4, 20))
    assert rest_indices(stream, 1) == list(range(9, 20))
    assert rest_indices(stream, 2) == list(range(14, 20))  # the holdout alone


def test_f1_is_measured_on_the_unseen_rest_only():
    stream = make_stream(30, seed=6, round_size=6, holdout=6)
    # Wrong on every item of round 1, right on everything after it.
    model = FakeModel(stream, table(stream, wrong=set(range(6, 12))))
    results = simulate(stream, LoopConfig(budget=2), fit=model.fit)
    assert results[0].rest_f1 < 1.0  # round 1 is still unseen
    assert [r.rest_f1 for r in results[1:]] == [1.0, 1.0, 1.0]
    assert [r.rest_size for r in results] == [24, 18, 12, 6]


def test_threshold_falls_back_when_cross_validation_is_impossible():
    texts = ["image pixels", "image camera", "words grammar"]
    assert review_threshold(texts, [A, A, B], LoopConfig()) == (FALLBACK_THRESHOLD, "fallback")
    assert review_threshold(texts[:2] * 2, [A, A, B, B], LoopConfig(cv_folds=1)) == (FALLBACK_THRESHOLD, "fallback")


def test_unknown_order_is_refused():
    stream = make_stream(10, seed=4, round_size=3, holdout=0)
    with pytest.raises(ValueError, match="unknown order"):
        simulate(stream, LoopConfig(order="passive"), fit=FakeModel(stream, table(stream)).fit)


def test_a_real_model_runs_the_loop():
    words = {A: "image pixels camera photo", B: "sentence words grammar text"}
    tags = [A if i % 2 == 0 else B for i in range(36)]
    stream = Stream(
        texts=[f"{words[t]} item{i}" for i, t in enumerate(tags)],
        tags=tags,
        seed=list(range(12)),
        rounds=[list(range(12, 20)), list(range(20, 28))],
        holdout=list(range(28, 36)),
    )
    # Separable data leaves the queue empty: the budget goes to the least confident.
    results = simulate(stream, LoopConfig(budget=2, algorithm="tfidf-linear"))
    assert [r.labels_spent for r in results] == [0, 2, 4]
    assert all(r.threshold_source == "cv" for r in results)
    assert results[-1].rest_f1 == 1.0
    assert np.isfinite(results[-1].threshold)
