"""Per-predicted-class review thresholds under the window-risk rule: a candidate policy, measured, not shipped.

The shipped policy (:mod:`ml.trust`) runs one threshold per source.  This candidate gives
each predicted class its own, under the same rule: the window goal is over *all* the
items a window accepts, so the allowed error is a budget shared by the classes, and a
threshold vector is judged by the window risk of the union of what it accepts
(:func:`ml.trust.window_risk` on the pooled evidence).  Classes with thin evidence are
pulled toward the global error rate (``shrinkage``: that many pseudo-items at the global
rate), so they fall back to roughly the global threshold.

Two ways to spend the budget (``method``):

* ``level``: one error level for every class; each class accepts from the lowest
  confidence at which its shrunk error rate is within that level; the loosest level
  whose pooled risk is within bounds wins.
* ``greedy``: admit, one step at a time, the class segment (a class's items between its
  current threshold and a lower one) with the lowest shrunk error rate; keep the most
  permissive vector met along the way.

With ``shrinkage=inf`` there is one threshold for every class, found as
:func:`ml.trust.prior_threshold` and :func:`ml.trust.proven_threshold` find it: the shipped
policy in this simulator (``make bench-trust-per-class`` checks that they agree).

The live policy (:func:`stream`) mirrors :func:`ml.trust.decide`: judge the vector in force
on the last audits pooled with the time-ordered validation, raise by re-allocating with
the vector in force as the floor, lower on ``release_audits`` new audits; and optionally
(``release_on_window``) lower as soon as the pooled evidence proves a lower vector again,
i.e. once the audited error that raised it has left the 30-item window.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ml.trust import REVIEW_ALL, TrustSettings, window_risk

WINDOW_AUDITS = 200  # as the service's sliding window of audits


@dataclass(frozen=True)
class Evidence:
    """A prediction with its confidence, its predicted tag and whether that tag was right."""

    confidence: float
    tag: str
    correct: bool


Thresholds = dict[str, float]


def accepts(item: Evidence, thresholds: Thresholds) -> bool:
    return item.confidence >= thresholds[item.tag]


def pooled_risk(
    evidence: Sequence[Evidence], thresholds: Thresholds, settings: TrustSettings, spent: int = 0
) -> tuple[float | None, int]:
    """The window risk of everything the vector accepts, pooled over classes, and how many items that is."""
    taken = [item for item in evidence if accepts(item, thresholds)]
    share = len(taken) / len(evidence) if evidence else None
    return window_risk(sum(i.correct for i in taken), len(taken), share, settings, spent=spent), len(taken)


def _within(risk: float | None, settings: TrustSettings) -> bool:
    return risk is not None and risk <= settings.risk + 1e-12


def _global_rate(evidence: Sequence[Evidence], threshold: float) -> float:
    """Error rate of every item at or above ``threshold`` (Jeffreys: never exactly 0)."""
    taken = [item for item in evidence if item.confidence >= threshold]
    return (sum(not i.correct for i in taken) + 0.5) / (len(taken) + 1)


def _shrunk(errors: int, items: int, global_rate: float, shrinkage: float) -> float:
    if math.isinf(shrinkage):
        return global_rate
    return (errors + shrinkage * global_rate) / (items + shrinkage)


def allocate(
    evidence: Sequence[Evidence],
    *,
    tags: Sequence[str],
    floor: Thresholds,
    settings: TrustSettings,
    shrinkage: float,
    method: str = "greedy",
    spent: int = 0,
) -> Thresholds | None:
    """The most permissive per-class vector (each at or above ``floor``) whose pooled risk is in bounds; None if none."""
    if not evidence:
        return None
    if math.isinf(shrinkage):
        return _allocate_single(evidence, tags, floor, settings, spent)
    if method == "level":
        return _allocate_level(evidence, tags, floor, settings, shrinkage, spent)
    return _allocate_greedy(evidence, tags, floor, settings, shrinkage, spent)


def _allocate_single(evidence, tags, floor, settings, spent) -> Thresholds | None:
    """One threshold for every class (each at least its floor): the lowest whose pooled risk is in bounds."""
    lowest = min(floor.values())
    for threshold in sorted({lowest, *(i.confidence for i in evidence if i.confidence >= lowest)}):
        vector = {tag: max(threshold, floor[tag]) for tag in tags}
        if _within(pooled_risk(evidence, vector, settings, spent)[0], settings):
            return vector
    return None


def _allocate_level(evidence, tags, floor, settings, shrinkage, spent) -> Thresholds | None:
    curves = {tag: _class_curve(evidence, tag, floor[tag], shrinkage) for tag in tags}
    levels = sorted({rate for curve in curves.values() for _, rate in curve}, reverse=True)
    for level in levels:  # loosest first
        vector = {tag: min((t for t, rate in curves[tag] if rate <= level + 1e-12), default=REVIEW_ALL) for tag in tags}
        if _within(pooled_risk(evidence, vector, settings, spent)[0], settings):
            return vector
    return None


def _class_curve(evidence, tag, floor, shrinkage) -> list[tuple[float, float]]:
    """(threshold, shrunk error rate of the class's items at or above it) for the class's candidate thresholds."""
    mine = [item for item in evidence if item.tag == tag]
    curve = []
    for threshold in sorted({floor, *(i.confidence for i in mine if i.confidence >= floor)}):
        taken = [i for i in mine if i.confidence >= threshold]
        errors = sum(not i.correct for i in taken)
        curve.append((threshold, _shrunk(errors, len(taken), _global_rate(evidence, threshold), shrinkage)))
    return curve


def _allocate_greedy(evidence, tags, floor, settings, shrinkage, spent) -> Thresholds | None:
    vector = {tag: REVIEW_ALL for tag in tags}
    best, best_count = None, -1
    while (step := _cheapest_step(evidence, vector, floor, shrinkage)) is not None:
        tag, threshold = step
        vector[tag] = threshold
        risk, count = pooled_risk(evidence, vector, settings, spent)
        if _within(risk, settings) and count > best_count:
            best, best_count = dict(vector), count
    return best


def _cheapest_step(evidence, vector, floor, shrinkage) -> tuple[str, float] | None:
    """The (class, lower threshold) whose newly admitted items have the lowest shrunk error rate."""
    options = []
    for tag, current in vector.items():
        seen = {i.confidence for i in evidence if i.tag == tag and floor[tag] <= i.confidence < current}
        for threshold in sorted(seen | ({floor[tag]} if floor[tag] < current else set()), reverse=True):
            segment = [i for i in evidence if i.tag == tag and threshold <= i.confidence < current]
            if segment:
                errors = sum(not i.correct for i in segment)
                rate = _shrunk(errors, len(segment), _global_rate(evidence, threshold), shrinkage)
                options.append((rate, -len(segment), tag, threshold))
    if not options:
        return None
    _, _, tag, threshold = min(options)
    return tag, threshold


@dataclass(frozen=True)
class Candidate:
    """One per-class policy to measure."""

    shrinkage: float
    method: str = "greedy"
    release_on_window: bool = False


@dataclass
class Outcome:
    accepted: list[bool] = field(default_factory=list)
    audited: list[bool] = field(default_factory=list)
    raises: int = 0


def start_vector(
    prior: Sequence[Evidence], *, tags: Sequence[str], cv_threshold: float, settings: TrustSettings, policy: Candidate
) -> Thresholds:
    """What the validation proves per class, never below the CV point; everything to review when nothing is proven."""
    floor = {tag: cv_threshold for tag in tags}
    proven = allocate(
        prior, tags=tags, floor=floor, settings=settings, shrinkage=policy.shrinkage, method=policy.method
    )
    return proven if proven is not None else {tag: REVIEW_ALL for tag in tags}


def stream(
    items: Sequence[tuple[str, Evidence]],
    *,
    start: Thresholds,
    prior: Sequence[Evidence],
    settings: TrustSettings,
    policy: Candidate,
    seed: int,
    lag: int,
    is_audit,
) -> Outcome:
    """Items (key, evidence) arrive in order; audits answered ``lag`` items later run the per-class policy."""
    outcome = Outcome()
    vector, share = dict(start), settings.raised_audit_share
    answered: list[tuple[int, Evidence]] = []
    since_change, spent = 0, 0
    pending: list[tuple[int, int, Evidence]] = []
    for index, (key, item) in enumerate(items):
        arrived = [(k, audit) for due, k, audit in pending if due <= index]
        pending = [p for p in pending if p[0] > index]
        answered += arrived
        now_spent = sum(
            not audit.correct and outcome.accepted[k] for k, audit in answered if k >= index - settings.window_items
        )
        if arrived or now_spent != spent:
            audits = [audit for _, audit in answered]
            new_vector = _decide(audits, since_change, vector, start, prior, settings, policy, now_spent)
            if new_vector != vector:
                outcome.raises += any(new_vector[t] > vector[t] for t in vector)
                vector, since_change = new_vector, len(answered)
            share = _audit_share(vector, start, audits[-WINDOW_AUDITS:], settings)
        spent = now_spent
        outcome.accepted.append(accepts(item, vector))
        audited = is_audit(key, share=share, seed=seed)
        outcome.audited.append(audited)
        if audited:
            pending.append((index + lag, index, item))
    return outcome


def _decide(audits, since_change, vector, start, prior, settings, policy, spent) -> Thresholds:
    tags = list(vector)
    pooled = [*audits[-WINDOW_AUDITS:], *prior]
    risk, count = pooled_risk(pooled, vector, settings, spent)
    if count >= settings.min_audits and not _within(risk, settings):
        raised = allocate(pooled, tags=tags, floor=vector, settings=settings, shrinkage=policy.shrinkage,
                          method=policy.method, spent=spent)  # fmt: skip
        return raised if raised is not None else {tag: REVIEW_ALL for tag in tags}
    if all(vector[t] <= start[t] for t in tags):
        return vector
    new = audits[since_change:]
    lowest_new = min((a.confidence for a in new), default=REVIEW_ALL)
    floor = {t: start[t] if start[t] < REVIEW_ALL else lowest_new for t in tags}
    lowered = None
    if policy.release_on_window:  # the raise's own evidence, now that its error may have left the window
        lowered = allocate(pooled, tags=tags, floor=floor, settings=settings, shrinkage=policy.shrinkage,
                           method=policy.method, spent=spent)  # fmt: skip
    if lowered is None and sum(accepts(a, floor) for a in new) >= settings.release_audits:
        lowered = allocate([*new, *prior], tags=tags, floor=floor, settings=settings, shrinkage=policy.shrinkage,
                           method=policy.method, spent=spent)  # fmt: skip
        if lowered is not None and sum(accepts(a, lowered) for a in new) < settings.release_audits:
            lowered = None
    if lowered is None:
        return vector
    return {t: min(lowered[t], vector[t]) for t in tags}


def _audit_share(vector, start, window, settings: TrustSettings) -> float:
    """As :func:`ml.trust.audit_share`: raised while any class is raised, front-loaded while evidence is young."""
    raised = max(settings.raised_audit_share, settings.base_audit_share)
    if any(vector[t] > start[t] for t in vector):
        return raised
    taken = sum(accepts(a, vector) for a in window)
    return settings.base_audit_share + (raised - settings.base_audit_share) * max(
        0.0, 1 - taken / settings.settle_audits
    )
