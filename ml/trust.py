"""Keep the promised precision on the live stream: judge blind audits, move a source's threshold.

A model version promises that what it auto-accepts (confidence >= its threshold) is
right at least ``target`` of the time, in every window of ``window_items`` arriving items
of a source: one error in 20-39 accepted items, none below 20, so a per-item precision near
0.99.  The policy therefore judges a threshold by the window's own question: the chance,
given the evidence there, that a window's accepted items miss the target
(:func:`window_risk`), which may be at most ``risk``.  Blind audit samples are a fair random draw of the
stream, answered by people, so the audited items at or above the threshold in force
estimate the live precision of what is auto-accepted.  Audits alone arrive too slowly
to prove much (a window risk of 0.05 needs 57 right out of 57), so the policy starts from evidence the model brings with it: the
*prior*, its time-ordered validation (:mod:`ml.time_validation`: its newest training
items predicted by models that never saw them, i.e. the model on newer content), each
item counted ``prior_weight`` audits.  The model's starting threshold is the lowest the
prior proves (:func:`prior_threshold`), so the promise starts just kept and the first
live errors can break it.

The policy, per source (a stream of items), on the audits of the active model:

* **Judge** the threshold in force on the sliding window of answered audits pooled with
  the prior: once that evidence at the threshold (audits accepted at it, confidence >=
  threshold, plus the prior's items there) reaches ``min_audits``, take its window risk
  (the one-sided Wilson lower bound at ``confidence`` is shown beside it).  Errors audits
  found among the items the current window accepted (``spent``) leave the rest of the
  window less allowance: one seen error raises the threshold at once.
* **Raise** when that risk is above ``risk``: to the lowest threshold the evidence
  *proves* (risk within bounds; with no prior, ``min_audits`` audits at or above it),
  or to ``REVIEW_ALL`` (everything to people) when none is proven.  Proven is the same
  test as the judgement, so a raised threshold is not judged short again by the same
  evidence: no oscillation.
* **Lower** only on evidence: to the lowest threshold, down to the model's own, that at
  least ``release_audits`` audits answered *since the change* prove with the prior (a
  model whose own threshold sends everything to review may be lowered below it, on the
  same evidence).
* **Audit more** while a source is raised, at ``raised_audit_share``; and front-load the
  audits (``warmup``): the raised share for a new model or source, falling linearly to the
  base share as ``settle_audits`` audits accepted at the threshold in force come in
  (never when the base share is 0: audits are off).

The service (predictions.services.trust) and ``make bench-trust`` both call
:func:`decide`; it is plain Python on plain values.
"""

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TypedDict

# Above every confidence (a probability): everything goes to a person.  The same value
# the system stores as a version's threshold when the target is out of reach.
REVIEW_ALL = 1.01

RAISE, LOWER, HOLD = "raise", "lower", "hold"


@dataclass(frozen=True)
class Audit:
    """One answered audit: the model's confidence on the item and whether its tag was right."""

    confidence: float
    correct: bool


@dataclass(frozen=True)
class TrustSettings:
    target: float = 0.95
    confidence: float = 0.95  # of the one-sided lower bound
    min_audits: int = 20  # accepted audits needed to judge the threshold in force
    release_audits: int = 30  # new accepted audits needed to lower a raised threshold
    base_audit_share: float = 0.05
    raised_audit_share: float = 0.25
    warmup: bool = True  # front-load audits: the raised share, decaying to the base one over settle_audits
    settle_audits: int = 20  # live audits accepted at the threshold in force that end the front-loading
    prior_weight: float = 1.0  # what one item of the time-ordered validation counts for, in audits
    window_items: int = 30  # the promise: precision >= target among each window's (this many arriving items) accepted
    risk: float = 0.05  # the chance, given the evidence, that one window misses the target that a threshold may run

    def __post_init__(self) -> None:
        if not 0 < self.target <= 1:
            raise ValueError(f"target must be in (0, 1], not {self.target}")
        if not 0.5 <= self.confidence < 1:
            raise ValueError(f"confidence must be in [0.5, 1), not {self.confidence}")
        for name in ("min_audits", "release_audits", "settle_audits", "window_items"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("base_audit_share", "raised_audit_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1]")
        if not 0 <= self.prior_weight <= 1:
            raise ValueError(f"prior_weight must be in [0, 1], not {self.prior_weight}")
        if not 0 < self.risk < 1:
            raise ValueError(f"risk must be in (0, 1), not {self.risk}")


@dataclass(frozen=True)
class Estimate:
    """Audits accepted at ``threshold`` and the prior evidence there; None figures when there is none.

    ``n``/``correct`` count live audits; ``prior_n``/``prior_correct`` the time-ordered
    validation's items at the threshold, already weighted.  ``precision`` is the live
    audits' own; ``lower`` the Wilson bound on both together; ``share`` the part of all
    that evidence accepted at the threshold (the automation it predicts); ``risk`` the
    chance that a window misses the target there (:func:`window_risk`), ``spent`` errors
    of the current window already counted against it.
    """

    threshold: float
    n: int
    correct: int
    precision: float | None
    lower: float | None
    prior_n: float = 0.0
    prior_correct: float = 0.0
    share: float | None = None
    risk: float | None = None
    spent: int = 0

    @property
    def evidence(self) -> float:
        return self.n + self.prior_n

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "threshold": self.threshold,
            "n": self.n,
            "correct": self.correct,
            "precision": self.precision,
            "lower": self.lower,
            "prior_n": self.prior_n,
            "prior_correct": self.prior_correct,
            "share": self.share,
            "risk": self.risk,
            "spent": self.spent,
        }


@dataclass(frozen=True)
class Decision:
    action: str  # RAISE, LOWER or HOLD
    threshold: float  # in force after the decision
    audit_share: float
    estimate: Estimate  # the evidence judged: new audits at the threshold in force before
    reason: str


def wilson_lower(correct: float, n: float, confidence: float) -> float | None:
    """One-sided Wilson score lower bound of a proportion (None without data).

    Wilson rather than the normal approximation: it stays inside [0, 1] and is sensible
    at 20/20, where precision audits live.  Counts may be fractional (weighted prior
    evidence): the formula only needs the proportion and the sample size.
    """
    if n <= 0:
        return None
    z = NormalDist().inv_cdf(confidence)
    p = min(1.0, correct / n)
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def window_risk(
    correct: float, n: float, share: float | None, settings: TrustSettings, *, spent: int = 0
) -> float | None:
    """The chance that the items a window accepts miss the target, given ``correct`` right of ``n`` (None: no data).

    The goal is per window of ``window_items`` arriving items: of the k it accepts, at
    most ``(1 - target) x k`` may be wrong (one in 20-39, none below 20).  k is binomial
    (each item accepted with probability ``share``); the error rate at the threshold is
    uncertain, a Beta posterior on the evidence (Jeffreys prior), so a window's errors
    are beta-binomial given k; the risk is their tail beyond the allowance, averaged over
    k.  ``spent``: errors the window has already made (seen in its audits), which leave
    less allowance to the rest of it.  This asks for a per-item precision near 0.99 where
    a bound on the mean asks for 0.95, and it grows with the evidence's doubt.
    """
    if n <= 0 or share is None:
        return None
    return _window_risk(max(0.0, n - correct), n, min(1.0, share), settings.window_items, settings.target, spent)


@functools.lru_cache(maxsize=65536)  # a threshold search asks the same evidence again and again
def _window_risk(errors: float, n: float, share: float, window_items: int, target: float, spent: int) -> float:
    import numpy as np  # noqa: PLC0415 -- numpy and scipy only where a threshold is judged
    from scipy.stats import betabinom, binom  # noqa: PLC0415

    accepted = np.arange(window_items + 1)
    allowed = np.maximum(0, np.floor((1 - target) * accepted + 1e-9) - spent)
    missed = betabinom.sf(allowed, accepted, errors + 0.5, n - errors + 0.5)
    return float(np.dot(binom.pmf(accepted, window_items, share), missed))


def estimate(
    audits: Sequence[Audit],
    threshold: float,
    settings: TrustSettings,
    *,
    prior: Sequence[Audit] = (),
    spent: int = 0,
) -> Estimate:
    """Live audits at ``threshold``, pooled with the prior's items there, each counted ``settings.prior_weight``."""
    weight = settings.prior_weight
    accepted = [audit for audit in audits if audit.confidence >= threshold]
    right = sum(audit.correct for audit in accepted)
    backed = [item for item in prior if item.confidence >= threshold] if weight > 0 else []
    prior_n = weight * len(backed)
    prior_right = weight * sum(item.correct for item in backed)
    total = len(audits) + (weight * len(prior) if weight > 0 else 0.0)
    share = (len(accepted) + prior_n) / total if total else None
    return Estimate(
        threshold=threshold,
        n=len(accepted),
        correct=right,
        precision=right / len(accepted) if accepted else None,
        lower=wilson_lower(right + prior_right, len(accepted) + prior_n, settings.confidence),
        prior_n=prior_n,
        prior_correct=prior_right,
        share=share,
        risk=window_risk(right + prior_right, len(accepted) + prior_n, share, settings, spent=spent),
        spent=spent,
    )


def _judge(
    audits: Sequence[Audit], threshold: float, prior: Sequence[Audit], settings: TrustSettings, spent: int = 0
) -> Estimate:
    return estimate(audits, threshold, settings, prior=prior, spent=spent)


def _meets(evidence: Estimate, settings: TrustSettings) -> bool:
    return evidence.risk is not None and evidence.risk <= settings.risk + 1e-12


def proven_threshold(
    audits: Sequence[Audit],
    *,
    floor: float,
    below: float,
    min_audits: int,
    settings: TrustSettings,
    prior: Sequence[Audit] = (),
    spent: int = 0,
) -> float | None:
    """The lowest threshold in [floor, below) that the audits (with the prior) prove, or None.

    Proven: at least ``min_audits`` live audits at or above it and a window risk at or
    below ``settings.risk``, on the live audits pooled with the weighted prior.  Candidates are
    ``floor`` and the confidences seen (ties are accepted together, as serving accepts
    ``confidence >= threshold``).
    """
    seen = (a.confidence for a in (*audits, *prior))
    candidates = sorted({floor, *(c for c in seen if floor <= c < below)})
    for threshold in candidates:
        evidence = _judge(audits, threshold, prior, settings, spent)
        if evidence.n >= min_audits and _meets(evidence, settings):
            return threshold
    return None


def prior_threshold(prior: Sequence[Audit], settings: TrustSettings) -> float | None:
    """The threshold the time-ordered validation alone proves: a model's starting point on a moving stream.

    The newest slices of the training data, predicted by models trained only on what came
    before them, show how the model does on content newer than what it learnt from.  The
    lowest confidence at which that evidence (weighted as in the live judgement, so the
    judgement starts from a kept promise) puts the window risk within ``settings.risk``;
    ``REVIEW_ALL`` when none does.  None when the evidence is too small to prove the target
    even if every item were right: it cannot judge the model, so it must not stand in for audits.
    """
    if not can_prove(len(prior), settings):
        return None
    for threshold in sorted({item.confidence for item in prior}):
        if _meets(_judge((), threshold, prior, settings), settings):
            return threshold
    return REVIEW_ALL


def can_prove(items: int, settings: TrustSettings) -> bool:
    """Whether ``items`` validation items, all right and all accepted, would keep the window risk within bounds."""
    weighted = items * settings.prior_weight
    risk = window_risk(weighted, weighted, 1.0, settings)
    return risk is not None and risk <= settings.risk + 1e-12


def decide(
    *,
    window: Sequence[Audit],
    new: Sequence[Audit],
    base_threshold: float,
    current_threshold: float,
    settings: TrustSettings,
    prior: Sequence[Audit] = (),
    spent: int = 0,
) -> Decision:
    """What to do with one source's threshold.

    ``window``: the recent audits of the active model (the sliding window); ``new``: of
    those, the ones answered since the threshold last changed (all of them if it never
    did).  ``base_threshold`` is the model's own; ``current_threshold`` the one in force.
    ``prior``: the model's time-ordered validation (its items as audits), pooled with the
    live audits at ``settings.prior_weight`` each: it lets the first few live errors count
    against a known baseline instead of waiting for ``min_audits`` of them.  ``spent``: the
    errors audits found among the items the current window accepted (the source's last
    ``window_items``): they leave the rest of the window less allowance, so one seen error
    raises the threshold at once, for as long as it stays in the window.
    """
    judged = _judge(window, current_threshold, prior, settings, spent)
    if judged.evidence >= settings.min_audits and not _meets(judged, settings):
        return _raise(window, judged, current_threshold, settings, prior, spent)
    # A model whose own threshold proves nothing (everything to review) may still earn one on live evidence.
    # Never below the lowest audited confidence: what lies below it was never checked.
    floor = base_threshold if base_threshold < REVIEW_ALL else min((a.confidence for a in new), default=REVIEW_ALL)
    if current_threshold > floor:
        released = proven_threshold(
            new,
            floor=floor,
            below=current_threshold,
            min_audits=settings.release_audits,
            settings=settings,
            prior=prior,
            spent=spent,
        )
        if released is not None:
            proof = _judge(new, released, prior, settings, spent)
            why = f"{_evidence_text(proof)} at {released:.3f}: {_risk_text(proof, settings)} <= {settings.risk:.2f}"
            share = audit_share(settings, released, base_threshold, window)
            return Decision(LOWER, released, share, proof, why)
    share = audit_share(settings, current_threshold, base_threshold, window)
    return Decision(HOLD, current_threshold, share, judged, "")


def _raise(
    window: Sequence[Audit],
    judged: Estimate,
    current: float,
    settings: TrustSettings,
    prior: Sequence[Audit],
    spent: int,
) -> Decision:
    # With a prior, the pooled evidence may prove a higher threshold that no live audit
    # reached yet (the validation covers it); without one, min_audits audits must back it.
    proven = proven_threshold(
        window,
        floor=current,
        below=REVIEW_ALL,
        min_audits=_live_needed(prior, settings),
        settings=settings,
        prior=prior,
        spent=spent,
    )
    raised = REVIEW_ALL if proven is None else proven
    why = f"{_evidence_text(judged)} at {current:.3f}: {_risk_text(judged, settings)} > {settings.risk:.2f}; " + (
        "no confidence is proven by the audits: everything goes to review"
        if proven is None
        else f"the audits prove the target from {raised:.3f}"
    )
    return Decision(RAISE, raised, settings.raised_audit_share, judged, why)


def _live_needed(prior: Sequence[Audit], settings: TrustSettings) -> int:
    return 0 if prior and settings.prior_weight > 0 else settings.min_audits


def _risk_text(evidence: Estimate, settings: TrustSettings) -> str:
    spent = f", {evidence.spent} error(s) already in this window" if evidence.spent else ""
    return (
        f"chance {evidence.risk:.3f} that a window of {settings.window_items} items misses "
        f"{settings.target:.2f} (lower bound {evidence.lower:.3f}{spent})"
    )


def _evidence_text(evidence: Estimate) -> str:
    text = f"{evidence.correct}/{evidence.n} audits right"
    if evidence.prior_n:
        text += f" (with {evidence.prior_correct:.0f}/{evidence.prior_n:.0f} weighted validation items)"
    return text


def audit_share(settings: TrustSettings, current: float, base: float, window: Sequence[Audit]) -> float:
    """The audit share: raised while a source is raised; front-loaded, decaying to the base, while evidence is young.

    Front-loading: a new model (or source) is audited at the raised share, which falls
    linearly to the base share as ``settle_audits`` audits accepted at the threshold in
    force accumulate.  Early audits are the ones that can catch a broken promise in time.
    """
    if settings.base_audit_share <= 0:
        return 0.0  # audits are turned off: nothing to raise
    raised = max(settings.raised_audit_share, settings.base_audit_share)
    if current > base:
        return raised
    if not settings.warmup:
        return settings.base_audit_share
    accepted = sum(audit.confidence >= current for audit in window)
    left = max(0.0, 1 - accepted / settings.settle_audits)
    return settings.base_audit_share + (raised - settings.base_audit_share) * left


class PrecisionBlock(TypedDict):
    """One block of ``precision_series``: its audits, those accepted at the threshold then, and their figures."""

    audits: int
    accepted: int
    precision: float | None
    lower: float | None


def precision_series(
    audits: Sequence[Audit], *, thresholds: Sequence[float], block: int, confidence: float
) -> list[PrecisionBlock]:
    """Precision and lower bound of consecutive blocks of ``block`` audits, each at the threshold then in force.

    For the plot of precision per window: ``thresholds[k]`` is the threshold in force
    when audit k's item arrived.  A block with no accepted audit has None figures.
    """
    series: list[PrecisionBlock] = []
    for start in range(0, len(audits), block):
        chunk = audits[start : start + block]
        accepted = [a for a, t in zip(chunk, thresholds[start : start + block]) if a.confidence >= t]
        right = sum(a.correct for a in accepted)
        series.append(
            {
                "audits": len(chunk),
                "accepted": len(accepted),
                "precision": right / len(accepted) if accepted else None,
                "lower": wilson_lower(right, len(accepted), confidence),
            }
        )
    return series
