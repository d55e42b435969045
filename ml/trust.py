"""Keep the promised precision on the live stream: judge blind audits, move a source's threshold.

A model version promises that what it auto-accepts (confidence >= its threshold) is
right at least ``target`` of the time.  Blind audit samples are a fair random draw of the
stream, answered by people, so the audited items at or above the threshold in force
estimate the live precision of what is auto-accepted.  Audits alone arrive too slowly
to prove much (20 right out of 20 bound 0.88 at 95%; the bound reaches 0.95 from about
52 right out of 52), so the policy starts from evidence the model brings with it: the
*prior*, its time-ordered validation (:mod:`ml.time_validation`: its newest training
items predicted by models that never saw them, i.e. the model on newer content), each
item counted ``prior_weight`` audits.  The model's starting threshold is the lowest the
prior proves (:func:`prior_threshold`), so the promise starts just kept and the first
live errors can break it.

The policy, per source (a stream of items), on the audits of the active model:

* **Judge** the threshold in force on the sliding window of answered audits pooled with
  the prior: once that evidence at the threshold (audits accepted at it, confidence >=
  threshold, plus the prior's items there) reaches ``min_audits``, take the one-sided
  Wilson lower bound at ``confidence`` of its precision.
* **Raise** when that bound is below the target: to the lowest threshold the evidence
  *proves* (lower bound >= target; with no prior, ``min_audits`` audits at or above it),
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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

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

    def __post_init__(self) -> None:
        if not 0 < self.target <= 1:
            raise ValueError(f"target must be in (0, 1], not {self.target}")
        if not 0.5 <= self.confidence < 1:
            raise ValueError(f"confidence must be in [0.5, 1), not {self.confidence}")
        for name in ("min_audits", "release_audits", "settle_audits"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("base_audit_share", "raised_audit_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1]")
        if not 0 <= self.prior_weight <= 1:
            raise ValueError(f"prior_weight must be in [0, 1], not {self.prior_weight}")


@dataclass(frozen=True)
class Estimate:
    """Audits accepted at ``threshold`` and the prior evidence there; None figures when there is none.

    ``n``/``correct`` count live audits; ``prior_n``/``prior_correct`` the time-ordered
    validation's items at the threshold, already weighted.  ``precision`` is the live
    audits' own; ``lower`` the bound on both together.
    """

    threshold: float
    n: int
    correct: int
    precision: float | None
    lower: float | None
    prior_n: float = 0.0
    prior_correct: float = 0.0

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


def estimate(
    audits: Sequence[Audit],
    threshold: float,
    confidence: float,
    *,
    prior: Sequence[Audit] = (),
    prior_weight: float = 0.0,
) -> Estimate:
    """Live audits at ``threshold``, pooled with the prior's items there, each counted ``prior_weight``."""
    accepted = [audit for audit in audits if audit.confidence >= threshold]
    right = sum(audit.correct for audit in accepted)
    backed = [item for item in prior if item.confidence >= threshold] if prior_weight > 0 else []
    prior_n = prior_weight * len(backed)
    prior_right = prior_weight * sum(item.correct for item in backed)
    return Estimate(
        threshold=threshold,
        n=len(accepted),
        correct=right,
        precision=right / len(accepted) if accepted else None,
        lower=wilson_lower(right + prior_right, len(accepted) + prior_n, confidence),
        prior_n=prior_n,
        prior_correct=prior_right,
    )


def _judge(audits: Sequence[Audit], threshold: float, prior: Sequence[Audit], settings: TrustSettings) -> Estimate:
    return estimate(audits, threshold, settings.confidence, prior=prior, prior_weight=settings.prior_weight)


def _meets(evidence: Estimate, settings: TrustSettings) -> bool:
    return evidence.lower is not None and evidence.lower >= settings.target - 1e-12


def proven_threshold(
    audits: Sequence[Audit],
    *,
    floor: float,
    below: float,
    min_audits: int,
    settings: TrustSettings,
    prior: Sequence[Audit] = (),
) -> float | None:
    """The lowest threshold in [floor, below) that the audits (with the prior) prove, or None.

    Proven: at least ``min_audits`` live audits at or above it and a lower bound at or
    above the target, on the live audits pooled with the weighted prior.  Candidates are
    ``floor`` and the confidences seen (ties are accepted together, as serving accepts
    ``confidence >= threshold``).
    """
    seen = (a.confidence for a in (*audits, *prior))
    candidates = sorted({floor, *(c for c in seen if floor <= c < below)})
    for threshold in candidates:
        evidence = _judge(audits, threshold, prior, settings)
        if evidence.n >= min_audits and _meets(evidence, settings):
            return threshold
    return None


def prior_threshold(prior: Sequence[Audit], settings: TrustSettings) -> float | None:
    """The threshold the time-ordered validation alone proves: a model's starting point on a moving stream.

    The newest slices of the training data, predicted by models trained only on what came
    before them, show how the model does on content newer than what it learnt from.  The
    lowest confidence at which that evidence (weighted as in the live judgement, so the
    judgement starts from a kept promise) bounds precision at the target; ``REVIEW_ALL``
    when none does.  None when the evidence is too small to prove the target even if every
    item were right: it cannot judge the model, so it must not stand in for audits.
    """
    if not can_prove(len(prior), settings):
        return None
    for threshold in sorted({item.confidence for item in prior}):
        if _meets(_judge((), threshold, prior, settings), settings):
            return threshold
    return REVIEW_ALL


def can_prove(items: int, settings: TrustSettings) -> bool:
    """Whether ``items`` validation items, all right, would bound precision at the target."""
    weighted = items * settings.prior_weight
    bound = wilson_lower(weighted, weighted, settings.confidence)
    return bound is not None and bound >= settings.target - 1e-12


def decide(
    *,
    window: Sequence[Audit],
    new: Sequence[Audit],
    base_threshold: float,
    current_threshold: float,
    settings: TrustSettings,
    prior: Sequence[Audit] = (),
) -> Decision:
    """What to do with one source's threshold.

    ``window``: the recent audits of the active model (the sliding window); ``new``: of
    those, the ones answered since the threshold last changed (all of them if it never
    did).  ``base_threshold`` is the model's own; ``current_threshold`` the one in force.
    ``prior``: the model's time-ordered validation (its items as audits), pooled with the
    live audits at ``settings.prior_weight`` each: it lets the first few live errors count
    against a known baseline instead of waiting for ``min_audits`` of them.
    """
    judged = _judge(window, current_threshold, prior, settings)
    if judged.evidence >= settings.min_audits and not _meets(judged, settings):
        return _raise(window, judged, current_threshold, settings, prior)
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
        )
        if released is not None:
            proof = _judge(new, released, prior, settings)
            why = f"{_evidence_text(proof)} at {released:.3f}: lower bound {proof.lower:.3f} >= target {settings.target:.2f}"
            share = audit_share(settings, released, base_threshold, window)
            return Decision(LOWER, released, share, proof, why)
    share = audit_share(settings, current_threshold, base_threshold, window)
    return Decision(HOLD, current_threshold, share, judged, "")


def _raise(
    window: Sequence[Audit], judged: Estimate, current: float, settings: TrustSettings, prior: Sequence[Audit]
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
    )
    raised = REVIEW_ALL if proven is None else proven
    why = (
        f"{_evidence_text(judged)} at {current:.3f}: lower bound {judged.lower:.3f} < target {settings.target:.2f}; "
        + (
            "no confidence is proven by the audits: everything goes to review"
            if proven is None
            else f"the audits prove the target from {raised:.3f}"
        )
    )
    return Decision(RAISE, raised, settings.raised_audit_share, judged, why)


def _live_needed(prior: Sequence[Audit], settings: TrustSettings) -> int:
    return 0 if prior and settings.prior_weight > 0 else settings.min_audits


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


def precision_series(
    audits: Sequence[Audit], *, thresholds: Sequence[float], block: int, confidence: float
) -> list[dict[str, float | int | None]]:
    """Precision and lower bound of consecutive blocks of ``block`` audits, each at the threshold then in force.

    For the plot of precision per window: ``thresholds[k]`` is the threshold in force
    when audit k's item arrived.  A block with no accepted audit has None figures.
    """
    series = []
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
