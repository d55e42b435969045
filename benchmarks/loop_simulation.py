"""Simulate the human-in-the-loop on labelled data that arrives in rounds.

A model trained on a seed set tags each round of new items.  As in the
system, an item is auto-accepted when its confidence reaches the model's
review threshold and goes to review otherwise, and a user may report a wrong
tag on an auto-accepted item.  A simulated annotator answers with the true
tag, up to a per-round label budget; the answers join the training set and
the model is retrained (threshold included) before the next round.

Unanswered items are not dropped: every streamed item without a label stays
in the pool, and each retrained model re-scores it, as the system re-predicts
all content after a promotion (opening tasks below the new threshold and
closing those above it).  Open reports stay open until answered.

Under a budget, the order decides which items get labelled, and so what the
next model learns from.  Reports come first in every order, as the system
serves them first (labeling.services.review_queue.PRIORITY_BASE).  Then:

  uncertainty  the pool least confident first: the review queue (below the
               threshold) in the system's order, then, if budget is left,
               the least confident auto-accepted items
  random       the pool in a fresh seeded random order each round, whatever
               the confidence: random sampling, the active-learning baseline
  everything   the reference: every streamed item is labelled in its round

``budget=None`` answers exactly the review queue (reports and the items
below the threshold), whatever the order.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from ml.algorithms import DEFAULT_ALGORITHM
from ml.evaluation import overall_metrics
from ml.items import PredictionResult
from ml.operating_point import DEFAULT_TARGET_PRECISION
from ml.prediction import predict
from ml.selection import choose_review_threshold, cross_validate
from ml.training import train_model

ORDERS = ("uncertainty", "random", "everything")
# ml cannot read the Django settings: this mirrors TAGLOOP_REVIEW_THRESHOLD's
# default, the threshold the system uses when a training set is too small to CV.
FALLBACK_THRESHOLD = 0.6
# What the system stores when CV cannot reach the target precision: above
# every confidence, so every prediction goes to a person.
UNREACHABLE_THRESHOLD = 1.01

Predictor = Callable[[list[str]], list[PredictionResult]]


@dataclass(frozen=True)
class Stream:
    """Prepared texts and true tags, cut by position into the loop's phases.

    ``seed`` trains the first model; ``rounds`` arrive one after the other;
    ``holdout`` is the newest part, never streamed, so "the unseen rest"
    is never empty (it is the whole rest after the last round).
    """

    texts: list[str]
    tags: list[str]
    seed: list[int]
    rounds: list[list[int]]
    holdout: list[int]


@dataclass(frozen=True)
class LoopConfig:
    order: str = "uncertainty"
    budget: int | None = 10  # labels per round; None = exactly the review queue
    report_rate: float = 0.3  # chance that an item shown with a wrong tag gets reported
    target_precision: float = DEFAULT_TARGET_PRECISION
    cv_folds: int = 3
    algorithm: str = DEFAULT_ALGORITHM
    seed: int = 0


@dataclass(frozen=True)
class Fitted:
    """A trained model and the review threshold derived for it."""

    predict: Predictor
    threshold: float
    source: str  # "cv", "fallback" (no CV possible) or "unreachable" (target out of reach)


FitFunction = Callable[[list[str], list[str], LoopConfig], Fitted]


@dataclass(frozen=True)
class RoundResult:
    """One round, seen after its answers were trained on.

    Round 0 is the seed model before any stream item: it has no
    auto-accept figures.  Auto-accept figures are about the round's new
    items, under the model that met them; ``rest_f1`` is the retrained
    model's weighted F1 on the items not yet streamed (later rounds and the
    holdout).
    """

    round: int
    labels_spent: int  # cumulative over the stream; the seed set is not counted
    queued: int  # the review queue this round: open reports + pool items below the threshold
    carried: int  # of which were streamed in an earlier round (the backlog)
    reported: int  # reports opened this round
    answered: int
    backlog: int  # review queue items left unanswered at the end of the round
    auto_accept_share: float | None
    auto_precision: float | None  # None when nothing was auto-accepted
    rest_f1: float
    rest_size: int
    threshold: float  # the retrained model's, which serves the next round
    threshold_source: str


@dataclass
class _State:
    """What carries over from round to round."""

    training: list[int]
    pool: list[int]  # streamed, unlabelled, in arrival order
    reports: list[int]  # open reports, in the order they were opened
    ever_reported: set[int]
    fitted: Fitted
    scores: dict[int, PredictionResult]  # the current model on the pool and the unseen rest


def simulate(stream: Stream, config: LoopConfig, fit: FitFunction | None = None) -> list[RoundResult]:
    """Run the loop over every round of ``stream``; one result per round, round 0 first."""
    if config.order not in ORDERS:
        raise ValueError(f"unknown order {config.order!r}; choose one of: {', '.join(ORDERS)}")
    fit = fit or fit_with_threshold
    labels = sorted(set(stream.tags))
    # One report draw per item, fixed by the seed alone: whether an item shown
    # with a wrong tag gets reported does not depend on the order under test.
    report_draws = np.random.default_rng([config.seed, 0]).random(len(stream.texts))
    order_rng = np.random.default_rng([config.seed, 1])
    fitted = _fit(stream, list(stream.seed), config, fit)
    state = _State(
        training=list(stream.seed),
        pool=[],
        reports=[],
        ever_reported=set(),
        fitted=fitted,
        scores=_score(fitted, stream, rest_indices(stream, 0)),
    )
    results = [_round_result(0, stream, state, labels, spent=0)]
    for number, items in enumerate(stream.rounds, start=1):
        step = play_round(state, stream, items, config, report_draws, order_rng)
        state.training += step.answered
        answered = set(step.answered)
        state.pool = [i for i in state.pool if i not in answered]
        state.reports = [i for i in state.reports if i not in answered]
        state.fitted = _fit(stream, state.training, config, fit)
        state.scores = _score(state.fitted, stream, state.pool + rest_indices(stream, number))
        results.append(
            _round_result(
                number,
                stream,
                state,
                labels,
                spent=results[-1].labels_spent + len(step.answered),
                step=step,
                round_size=len(items),
            )
        )
    return results


@dataclass(frozen=True)
class Step:
    """What happened in one round, before the retrain."""

    accepted: list[int]  # the round's new items auto-accepted
    wrong: list[int]  # of which with a wrong tag
    reported: list[int]  # reports opened this round
    queue: list[int]  # open reports, then pool items below the threshold
    carried: int
    answered: list[int]


def play_round(
    state: _State,
    stream: Stream,
    items: list[int],
    config: LoopConfig,
    report_draws: np.ndarray,
    order_rng: np.random.Generator,
) -> Step:
    """Stream ``items`` into the pool, open reports, and answer within the budget.

    Mutates ``state.pool`` and ``state.reports`` (new arrivals and reports);
    the caller removes the answered items.
    """
    scores, threshold = state.scores, state.fitted.threshold
    new = set(items)
    state.pool += items
    shown_wrong = [i for i in state.pool if scores[i].confidence >= threshold and scores[i].tag != stream.tags[i]]
    reported = [i for i in shown_wrong if i not in state.ever_reported and report_draws[i] < config.report_rate]
    state.reports += reported
    state.ever_reported.update(reported)
    open_reports = set(state.reports)
    low = [i for i in state.pool if scores[i].confidence < threshold and i not in open_reports]
    queue = state.reports + low
    confidence = {i: scores[i].confidence for i in state.pool}
    accepted = [i for i in items if confidence[i] >= threshold]
    if config.order == "everything":
        answered = list(state.pool)  # the pool is this round's items: every earlier one is labelled
    elif config.budget is None:
        answered = list(queue)
    else:
        rest = [i for i in state.pool if i not in open_reports]
        ordered = _ordered(state.reports, confidence, config.order, order_rng) + _ordered(
            rest, confidence, config.order, order_rng
        )
        answered = within_budget(ordered, config.budget)
    return Step(
        accepted=accepted,
        wrong=[i for i in accepted if scores[i].tag != stream.tags[i]],
        reported=reported,
        queue=queue,
        carried=sum(1 for i in queue if i not in new),
        answered=answered,
    )


def _ordered(indices: Sequence[int], confidence: dict[int, float], order: str, rng: np.random.Generator) -> list[int]:
    """Least confident first for "uncertainty" (ties by position), a seeded shuffle for "random"."""
    if order == "random":
        return [indices[k] for k in rng.permutation(len(indices))]
    return sorted(indices, key=lambda i: (confidence[i], i))


def within_budget(ordered: Sequence[int], budget: int | None) -> list[int]:
    """The items the annotator answers this round: the head of the order."""
    return list(ordered) if budget is None else list(ordered[: max(budget, 0)])


def rest_indices(stream: Stream, completed_rounds: int) -> list[int]:
    """Items not yet streamed after ``completed_rounds`` rounds: later rounds, then the holdout."""
    later = [i for items in stream.rounds[completed_rounds:] for i in items]
    return later + list(stream.holdout)


def weighted_f1(stream: Stream, indices: Sequence[int], predicted: Sequence[str], labels: list[str]) -> float:
    """Weighted F1 of ``predicted`` against the true tags of ``indices``, over the full label set."""
    return overall_metrics([stream.tags[i] for i in indices], list(predicted), labels=labels)["f1"]


def _score(fitted: Fitted, stream: Stream, indices: list[int]) -> dict[int, PredictionResult]:
    # One prediction call per model: it serves both the unseen-rest F1 and the next round.
    return dict(zip(indices, fitted.predict([stream.texts[i] for i in indices])))


def _round_result(
    number: int,
    stream: Stream,
    state: _State,
    labels: list[str],
    *,
    spent: int,
    step: Step | None = None,
    round_size: int = 0,
) -> RoundResult:
    rest = rest_indices(stream, number)
    f1 = weighted_f1(stream, rest, [state.scores[i].tag for i in rest], labels)
    accepted = step.accepted if step else []
    answered = set(step.answered) if step else set()
    return RoundResult(
        round=number,
        labels_spent=spent,
        queued=len(step.queue) if step else 0,
        carried=step.carried if step else 0,
        reported=len(step.reported) if step else 0,
        answered=len(answered),
        backlog=sum(1 for i in step.queue if i not in answered) if step else 0,
        auto_accept_share=len(accepted) / round_size if step and round_size else None,
        auto_precision=1 - len(step.wrong) / len(accepted) if step and accepted else None,
        rest_f1=f1,
        rest_size=len(rest),
        threshold=state.fitted.threshold,
        threshold_source=state.fitted.source,
    )


def fit_with_threshold(texts: list[str], tags: list[str], config: LoopConfig) -> Fitted:
    """Train as the system does, and derive the review threshold as it does."""
    model = train_model(texts=texts, labels=tags, algorithm=config.algorithm, random_state=config.seed)
    threshold, source = review_threshold(texts, tags, config)
    return Fitted(predict=partial(predict, model), threshold=threshold, source=source)


def review_threshold(texts: list[str], tags: list[str], config: LoopConfig) -> tuple[float, str]:
    """The out-of-fold operating point at the target precision (predictions.services.training).

    Too little data to cross-validate (a label with one example): the fixed
    fallback threshold.  Target out of reach: everything goes to review.
    The system takes the point on imported and audited labels alone once it
    has ``ml.selection.MIN_FAIR_SAMPLE`` of them; here the only such labels
    are the seed set (no audits are simulated), below that size in the
    benchmark's runs, so every label is used, as the system would.
    """
    counts = Counter(tags)
    if config.cv_folds < 2 or len(counts) < 2 or min(counts.values()) < 2:
        return FALLBACK_THRESHOLD, "fallback"
    cv = cross_validate(
        texts=texts, labels=tags, algorithm=config.algorithm, folds=config.cv_folds, random_state=config.seed
    )
    point = choose_review_threshold(cv, tags, config.target_precision)
    if point["threshold"] is None:
        return UNREACHABLE_THRESHOLD, "unreachable"
    return point["threshold"], "cv"


def _fit(stream: Stream, training: list[int], config: LoopConfig, fit: FitFunction) -> Fitted:
    return fit([stream.texts[i] for i in training], [stream.tags[i] for i in training], config)
