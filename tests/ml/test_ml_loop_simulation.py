"""The human-in-the-loop simulation: budget, queue order, seeding, reports, unseen-rest metrics."""
import numpy as np
import pytest

from ml.items import PredictionResult
from ml.loop_simulation import (
    FALLBACK_THRESHOLD,
    Fitted,
    LoopConfig,
    Stream,
    rest_indices,
    review_queue,
    review_threshold,
    simulate,
    simulate_reports,
)

A, B = "a", "b"


class FakeModel:
    """Answers from a fixed table (text -> tag, confidence); records every training set."""

    def __init__(self, answers: dict[str, tuple[str, float]], threshold: float = 0.5):
        self.answers = answers
        self.threshold = threshold
        self.training_sets: list[list[str]] = []

    def fit(self, texts: list[str], tags: list[str], config: LoopConfig) -> Fitted:
        self.training_sets.append(list(texts))
        return Fitted(predict=self.predict, threshold=self.threshold, source="fake")

    def predict(self, texts: list[str]) -> list[PredictionResult]:
        results = []
        for text in texts:
            tag, confidence = self.answers[text]
            other = B if tag == A else A
            results.append(PredictionResult(tag=tag, confidence=confidence,
                                            probabilities={tag: confidence, other: 1 - confidence}))
        return results


def make_stream(tags: list[str], seed: int, round_size: int, holdout: int) -> Stream:
    n = len(tags)
    rounds = [list(range(start, min(start + round_size, n - holdout)))
              for start in range(seed, n - holdout, round_size)]
    return Stream(texts=[f"item {i}" for i in range(n)], tags=tags, seed=list(range(seed)),
                  rounds=rounds, holdout=list(range(n - holdout, n)))


def alternating(n: int) -> list[str]:
    return [A if i % 2 == 0 else B for i in range(n)]


def right(stream: Stream, confidence: dict[int, float] | None = None) -> dict[str, tuple[str, float]]:
    """Every prediction right, with the given (default 0.9) confidence per index."""
    confidence = confidence or {}
    return {text: (tag, confidence.get(i, 0.9))
            for i, (text, tag) in enumerate(zip(stream.texts, stream.tags))}


def trained_on(model: FakeModel, stream: Stream, fit_number: int) -> set[int]:
    return {stream.texts.index(text) for text in model.training_sets[fit_number]}


def test_answers_stay_within_the_per_round_budget():
    stream = make_stream(alternating(34), seed=4, round_size=10, holdout=0)
    # Everything below the threshold: each round queues all of its 10 items.
    model = FakeModel(right(stream, {i: 0.3 for i in range(34)}))
    for audit in (False, True):
        model.training_sets.clear()
        results = simulate(stream, LoopConfig(budget=3, audit_spare_budget=audit), fit=model.fit)
        assert [r.answered for r in results[1:]] == [3, 3, 3]
        assert [r.labels_spent for r in results] == [0, 3, 6, 9]
        assert [r.queued for r in results[1:]] == [10, 10, 10]
        # The training set grows by exactly the answers.
        assert [len(s) for s in model.training_sets] == [4, 7, 10, 13]


def test_spare_budget_audits_accepted_items_only_when_asked():
    stream = make_stream(alternating(24), seed=4, round_size=10, holdout=0)
    # Two queued items per round (confidence 0.3), the rest auto-accepted.
    model = FakeModel(right(stream, {i: 0.3 for i in range(24) if i % 5 == 0}))
    plain = simulate(stream, LoopConfig(budget=6), fit=model.fit)
    audited = simulate(stream, LoopConfig(budget=6, audit_spare_budget=True), fit=model.fit)
    assert [r.answered for r in plain[1:]] == [2, 2]
    assert [r.answered for r in audited[1:]] == [6, 6]


def test_everything_labels_every_streamed_item():
    stream = make_stream(alternating(30), seed=6, round_size=8, holdout=6)
    model = FakeModel(right(stream))
    results = simulate(stream, LoopConfig(order="everything", budget=1), fit=model.fit)
    assert results[-1].labels_spent == 18
    assert trained_on(model, stream, -1) == set(range(24))


def test_passive_order_samples_the_whole_round_whatever_the_confidence():
    stream = make_stream(alternating(44), seed=4, round_size=20, holdout=0)
    picks = []
    for confidence in ({4: 0.1, 24: 0.1}, {i: i / 100 for i in range(44)}):
        model = FakeModel(right(stream, confidence))
        results = simulate(stream, LoopConfig(order="passive", budget=5, seed=1), fit=model.fit)
        assert [r.answered for r in results[1:]] == [5, 5]
        picks.append(trained_on(model, stream, 2) - set(stream.seed))
    # The model's confidences (and so its queue) change nothing.
    assert picks[0] == picks[1] and len(picks[0]) == 10


def test_uncertainty_order_serves_reports_then_the_least_confident_first():
    confidence = {10: 0.45, 11: 0.05, 12: 0.30, 13: 0.20, 20: 0.99, 21: 0.80}
    queue = review_queue([20, 21], [10, 11, 12, 13], confidence, "uncertainty",
                         np.random.default_rng(0))
    assert queue == [21, 20, 11, 13, 12, 10]


def test_uncertainty_order_trains_on_the_least_confident_items():
    stream = make_stream(alternating(14), seed=4, round_size=10, holdout=0)
    confidence = {4: 0.40, 5: 0.10, 6: 0.35, 7: 0.20, 8: 0.45, 9: 0.30,
                  10: 0.49, 11: 0.15, 12: 0.42, 13: 0.25}
    model = FakeModel(right(stream, confidence))
    simulate(stream, LoopConfig(order="uncertainty", budget=3), fit=model.fit)
    assert trained_on(model, stream, 1) == {0, 1, 2, 3, 5, 11, 7}


def test_random_order_is_a_seeded_shuffle():
    low = list(range(30))
    confidence = {i: i / 100 for i in low}

    def shuffled(seed: int) -> list[int]:
        return review_queue([], low, confidence, "random", np.random.default_rng(seed))

    assert shuffled(3) == shuffled(3)
    assert shuffled(3) != shuffled(4)
    assert sorted(shuffled(3)) == low and shuffled(3) != low


def test_the_same_seed_replays_the_same_run():
    stream = make_stream(alternating(44), seed=4, round_size=10, holdout=0)
    model = FakeModel(right(stream, {i: 0.3 for i in range(44)}))

    def run(seed: int) -> list[set[int]]:
        model.training_sets.clear()
        simulate(stream, LoopConfig(order="random", budget=3, seed=seed), fit=model.fit)
        return [trained_on(model, stream, k) for k in range(len(model.training_sets))]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_rest_is_what_has_not_been_streamed_yet():
    stream = make_stream(alternating(20), seed=4, round_size=5, holdout=6)
    assert rest_indices(stream, 0) == list(range(4, 20))
    assert rest_indices(stream, 1) == list(range(9, 20))
    assert rest_indices(stream, 2) == list(range(14, 20))  # the holdout alone


def test_f1_is_measured_on_the_unseen_rest_only():
    stream = make_stream(alternating(30), seed=6, round_size=6, holdout=6)
    answers = right(stream)
    for i in range(30):
        # Wrong on every item of round 1, right on everything after it.
        if 6 <= i < 12:
            answers[stream.texts[i]] = (B if stream.tags[i] == A else A, 0.9)
    results = simulate(stream, LoopConfig(budget=2), fit=FakeModel(answers).fit)
    assert results[0].rest_f1 < 1.0  # round 1 is still unseen
    assert [r.rest_f1 for r in results[1:]] == [1.0, 1.0, 1.0]
    assert [r.rest_size for r in results] == [24, 18, 12, 6]


def test_reports_come_only_from_auto_accepted_wrong_items():
    accepted, wrong = [1, 2, 3, 4, 5, 6], {2, 5}
    assert simulate_reports(accepted, wrong, 1.0, np.random.default_rng(0)) == [2, 5]
    assert simulate_reports(accepted, wrong, 0.0, np.random.default_rng(0)) == []


def test_simulated_reports_skip_wrong_items_already_queued():
    stream = make_stream(alternating(16), seed=4, round_size=12, holdout=0)
    answers = right(stream)
    flip = {A: B, B: A}
    answers[stream.texts[5]] = (flip[stream.tags[5]], 0.9)  # wrong, auto-accepted
    answers[stream.texts[6]] = (flip[stream.tags[6]], 0.2)  # wrong, below the threshold
    answers[stream.texts[7]] = (stream.tags[7], 0.2)  # right, below the threshold
    model = FakeModel(answers)
    results = simulate(stream, LoopConfig(budget=1, report_rate=1.0), fit=model.fit)
    assert results[1].reported == 1 and results[1].queued == 3
    # The report is served first, so the single label goes to it.
    assert trained_on(model, stream, 1) - set(stream.seed) == {5}
    assert results[1].auto_precision == pytest.approx(9 / 10)
    assert results[1].auto_accept_share == pytest.approx(10 / 12)


def test_threshold_falls_back_when_cross_validation_is_impossible():
    texts = ["image pixels", "image camera", "words grammar"]
    assert review_threshold(texts, [A, A, B], LoopConfig()) == (FALLBACK_THRESHOLD, "fallback")
    assert review_threshold(texts[:2] * 2, [A, A, B, B], LoopConfig(cv_folds=1)) == (
        FALLBACK_THRESHOLD, "fallback")


def test_a_real_model_runs_the_loop():
    words = {A: "image pixels camera photo", B: "sentence words grammar text"}
    tags = alternating(36)
    stream = Stream(texts=[f"{words[t]} item{i}" for i, t in enumerate(tags)], tags=tags,
                    seed=list(range(12)), rounds=[list(range(12, 20)), list(range(20, 28))],
                    holdout=list(range(28, 36)))
    # Separable data leaves the queue empty: audits spend the budget.
    results = simulate(stream, LoopConfig(budget=2, algorithm="tfidf-linear",
                                          audit_spare_budget=True))
    assert [r.labels_spent for r in results] == [0, 2, 4]
    assert all(r.threshold_source == "cv" for r in results)
    assert results[-1].rest_f1 == 1.0
