"""Simulate the human-in-the-loop on labelled data that arrives in rounds.

A model trained on a seed set tags each round of new items.  As in the
system, an item goes to review when its confidence is below the model's
review threshold, and a user may report a wrong tag on an auto-accepted
item.  A simulated annotator answers review tasks with the true tag, up to
a per-round label budget; the answers join the training set and the model
is retrained (threshold included) before the next round.

Under a budget, the order of the review queue decides which items get
labelled, and so what the next model learns from.  Orders:

  uncertainty  least confident first (the system's queue order)
  random       a seeded shuffle of the same queue
  everything   the reference: every item of every round is labelled
  passive      a seeded random sample of the whole round, queue or not
               (classic passive learning: the model chooses nothing)

Reports are served before low-confidence items in every order, because the
system gives them a higher priority (labeling.services.review.PRIORITY_BASE).
Items left unanswered when the budget runs out are not carried over.  With
``audit_spare_budget``, budget the queue leaves unused goes on to the
auto-accepted items, in the same order (like the system's audit samples):
a large enough budget then labels the whole round in either order.
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

ORDERS = ("uncertainty", "random", "everything", "passive")
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
    budget: int | None = 10  # labels per round; None = the whole review queue
    report_rate: float = 0.3  # chance a user reports an auto-accepted wrong tag
    target_precision: float = DEFAULT_TARGET_PRECISION
    cv_folds: int = 3
    algorithm: str = DEFAULT_ALGORITHM
    seed: int = 0
    audit_spare_budget: bool = False


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
    auto-accept figures.  ``rest_f1`` is the retrained model's weighted F1
    on the items not yet streamed (later rounds and the holdout).
    """

    round: int
    labels_spent: int  # cumulative over the stream; the seed set is not counted
    queued: int
    reported: int
    answered: int
    auto_accept_share: float | None
    auto_precision: float | None  # None when nothing was auto-accepted
    rest_f1: float
    rest_size: int
    threshold: float  # the retrained model's, which serves the next round
    threshold_source: str


def simulate(stream: Stream, config: LoopConfig,
             fit: FitFunction | None = None) -> list[RoundResult]:
    """Run the loop over every round of ``stream``; one result per round, round 0 first."""
    if config.order not in ORDERS:
        raise ValueError(f"unknown order {config.order!r}; choose one of: {', '.join(ORDERS)}")
    fit = fit or fit_with_threshold
    labels = sorted(set(stream.tags))
    # Separate generators, so the report draws do not shift with the queue order.
    report_rng = np.random.default_rng([config.seed, 0])
    order_rng = np.random.default_rng([config.seed, 1])
    training = list(stream.seed)
    fitted = _fit(stream, training, config, fit)
    results = [_round_zero(stream, fitted, labels)]
    for number, items in enumerate(stream.rounds, start=1):
        step = _play_round(stream, items, fitted, config, report_rng, order_rng)
        training += step.answered
        fitted = _fit(stream, training, config, fit)
        results.append(_round_result(number, step, len(items), fitted, stream, labels,
                                     spent_before=results[-1].labels_spent))
    return results


def _round_result(number: int, step: "_Step", round_size: int, fitted: Fitted, stream: Stream,
                  labels: list[str], *, spent_before: int) -> RoundResult:
    # Auto-accept figures belong to the model that met the round; F1 and
    # threshold to the one retrained on its answers.
    rest = rest_indices(stream, number)
    return RoundResult(
        round=number, labels_spent=spent_before + len(step.answered),
        queued=len(step.queue), reported=len(step.reported), answered=len(step.answered),
        auto_accept_share=len(step.accepted) / round_size if round_size else None,
        auto_precision=step.auto_precision,
        rest_f1=rest_f1(fitted.predict, stream, rest, labels), rest_size=len(rest),
        threshold=fitted.threshold, threshold_source=fitted.source)


@dataclass(frozen=True)
class _Step:
    accepted: list[int]
    reported: list[int]
    queue: list[int]
    answered: list[int]
    auto_precision: float | None


def _play_round(stream: Stream, items: list[int], fitted: Fitted, config: LoopConfig,
                report_rng: np.random.Generator, order_rng: np.random.Generator) -> _Step:
    predictions = dict(zip(items, fitted.predict([stream.texts[i] for i in items])))
    accepted = [i for i in items if predictions[i].confidence >= fitted.threshold]
    wrong = {i for i in accepted if predictions[i].tag != stream.tags[i]}
    reported = simulate_reports(accepted, wrong, config.report_rate, report_rng)
    accepted_set = set(accepted)
    low = [i for i in items if i not in accepted_set]
    confidence = {i: predictions[i].confidence for i in items}
    queue = review_queue(reported, low, confidence, config.order, order_rng)
    answered = _answered(items, queue, accepted, confidence, config, order_rng)
    precision = 1 - len(wrong) / len(accepted) if accepted else None
    return _Step(accepted, reported, queue, answered, precision)


def _answered(items: list[int], queue: list[int], accepted: list[int],
              confidence: dict[int, float], config: LoopConfig,
              rng: np.random.Generator) -> list[int]:
    if config.order == "everything":
        return list(items)  # the reference labels the whole round, whatever the model said
    if config.order == "passive":
        return within_budget([items[k] for k in rng.permutation(len(items))], config.budget)
    spare = config.budget is None or config.budget > len(queue)
    if config.audit_spare_budget and spare:
        queued = set(queue)
        audits = _ordered([i for i in accepted if i not in queued], confidence, config.order, rng)
        queue = queue + audits
    return within_budget(queue, config.budget)


def simulate_reports(accepted: Sequence[int], wrong: set[int], rate: float,
                     rng: np.random.Generator) -> list[int]:
    """The auto-accepted items whose wrong tag a user reports, each with chance ``rate``.

    One draw per accepted item (right or wrong), so the draws line up with
    the items whatever the model got wrong; only wrong tags get reported.
    """
    draws = rng.random(len(accepted))
    return [i for i, draw in zip(accepted, draws) if i in wrong and draw < rate]


def review_queue(reported: Sequence[int], low_confidence: Sequence[int],
                 confidence: dict[int, float], order: str,
                 rng: np.random.Generator) -> list[int]:
    """The order a reviewer meets the round's tasks: reports, then low-confidence items.

    Within each group: a seeded shuffle for "random", least confident
    first for every other order (the system's own order).
    """
    return _ordered(reported, confidence, order, rng) + _ordered(low_confidence, confidence, order, rng)


def _ordered(indices: Sequence[int], confidence: dict[int, float], order: str,
             rng: np.random.Generator) -> list[int]:
    if order == "random":
        return [indices[k] for k in rng.permutation(len(indices))]
    # Ties broken by position so the order never depends on the sort's whims.
    return sorted(indices, key=lambda i: (confidence[i], i))


def within_budget(queue: Sequence[int], budget: int | None) -> list[int]:
    """The tasks the annotator answers this round: the head of the queue."""
    return list(queue) if budget is None else list(queue[:max(budget, 0)])


def rest_indices(stream: Stream, completed_rounds: int) -> list[int]:
    """Items not yet streamed after ``completed_rounds`` rounds: later rounds, then the holdout."""
    later = [i for items in stream.rounds[completed_rounds:] for i in items]
    return later + list(stream.holdout)


def rest_f1(predictor: Predictor, stream: Stream, rest: Sequence[int],
            labels: list[str]) -> float:
    """Weighted F1 of ``predictor`` on the ``rest`` items, over the full label set."""
    predicted = [p.tag for p in predictor([stream.texts[i] for i in rest])]
    return overall_metrics([stream.tags[i] for i in rest], predicted, labels=labels)["f1"]


def fit_with_threshold(texts: list[str], tags: list[str], config: LoopConfig) -> Fitted:
    """Train as the system does, and derive the review threshold as it does."""
    model = train_model(texts=texts, labels=tags, algorithm=config.algorithm,
                        random_state=config.seed)
    threshold, source = review_threshold(texts, tags, config)
    return Fitted(predict=partial(predict, model), threshold=threshold, source=source)


def review_threshold(texts: list[str], tags: list[str], config: LoopConfig) -> tuple[float, str]:
    """The out-of-fold operating point at the target precision (predictions.services.training).

    Too little data to cross-validate (a label with one example): the fixed
    fallback threshold.  Target out of reach: everything goes to review.
    """
    counts = Counter(tags)
    if config.cv_folds < 2 or len(counts) < 2 or min(counts.values()) < 2:
        return FALLBACK_THRESHOLD, "fallback"
    cv = cross_validate(texts=texts, labels=tags, algorithm=config.algorithm,
                        folds=config.cv_folds, random_state=config.seed)
    point = choose_review_threshold(cv, tags, config.target_precision)
    if point["threshold"] is None:
        return UNREACHABLE_THRESHOLD, "unreachable"
    return point["threshold"], "cv"


def _fit(stream: Stream, training: list[int], config: LoopConfig, fit: FitFunction) -> Fitted:
    return fit([stream.texts[i] for i in training], [stream.tags[i] for i in training], config)


def _round_zero(stream: Stream, fitted: Fitted, labels: list[str]) -> RoundResult:
    rest = rest_indices(stream, 0)
    return RoundResult(round=0, labels_spent=0, queued=0, reported=0, answered=0,
                       auto_accept_share=None, auto_precision=None,
                       rest_f1=rest_f1(fitted.predict, stream, rest, labels), rest_size=len(rest),
                       threshold=fitted.threshold, threshold_source=fitted.source)
