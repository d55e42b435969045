"""Keep the promised precision on the live stream: judge blind audits, move a source's threshold.

A model version promises that what it auto-accepts (confidence >= its threshold) is
right at least ``target`` of the time; the threshold was chosen on data from before the
stream moved.  Blind audit samples are a fair random draw of the stream, answered by
people, so the audited items at or above the threshold in force estimate the live
precision of what is auto-accepted.

The policy, per source (a stream of items), on the audits of the active model:

* **Judge** the threshold in force on the sliding window of answered audits: with at
  least ``min_audits`` of them accepted at it (confidence >= threshold), take their
  precision and its one-sided Wilson lower bound at ``confidence``.
* **Raise** when that bound is below the target: to the lowest threshold the window's
  audits *prove* (at least ``min_audits`` audits at or above it, lower bound >= target),
  or to ``REVIEW_ALL`` (everything to people) when no threshold is proven: too few
  audits, or too many errors.  Proven is the same test as the judgement, so a raised
  threshold is not judged short again by the same audits: no oscillation.
* **Lower** only on evidence: to the lowest threshold, down to the model's own, that at
  least ``release_audits`` audits answered *since the change* prove.
* **Audit more** while a source is raised, and (``warmup``) while it has fewer than
  ``min_audits`` audits of the active model, at ``raised_audit_share`` (never when the
  base share is 0: audits are off).

With few audits the bound cannot reach a high target (20 right out of 20 bound 0.88 at
95%; the bound reaches 0.95 from about 52 right out of 52), so the promise is kept by
sending items to people until the audits prove it: that is the price of a promise
backed by live evidence rather than by the training data.

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
    warmup: bool = True  # audit at the raised share until min_audits audits exist

    def __post_init__(self) -> None:
        if not 0 < self.target <= 1:
            raise ValueError(f"target must be in (0, 1], not {self.target}")
        if not 0.5 <= self.confidence < 1:
            raise ValueError(f"confidence must be in [0.5, 1), not {self.confidence}")
        for name in ("min_audits", "release_audits"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("base_audit_share", "raised_audit_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1]")


@dataclass(frozen=True)
class Estimate:
    """Precision of the audits accepted at ``threshold``; None figures when there are none."""

    threshold: float
    n: int
    correct: int
    precision: float | None
    lower: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "threshold": self.threshold,
            "n": self.n,
            "correct": self.correct,
            "precision": self.precision,
            "lower": self.lower,
        }


@dataclass(frozen=True)
class Decision:
    action: str  # RAISE, LOWER or HOLD
    threshold: float  # in force after the decision
    audit_share: float
    estimate: Estimate  # the evidence judged: new audits at the threshold in force before
    reason: str


def wilson_lower(correct: int, n: int, confidence: float) -> float | None:
    """One-sided Wilson score lower bound of a proportion (None without data).

    Wilson rather than the normal approximation: it stays inside [0, 1] and is sensible
    at 20/20, where precision audits live.
    """
    if n <= 0:
        return None
    z = NormalDist().inv_cdf(confidence)
    p = correct / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def estimate(audits: Sequence[Audit], threshold: float, confidence: float) -> Estimate:
    accepted = [audit for audit in audits if audit.confidence >= threshold]
    right = sum(audit.correct for audit in accepted)
    return Estimate(
        threshold=threshold,
        n=len(accepted),
        correct=right,
        precision=right / len(accepted) if accepted else None,
        lower=wilson_lower(right, len(accepted), confidence),
    )


def proven_threshold(
    audits: Sequence[Audit], *, floor: float, below: float, min_audits: int, settings: TrustSettings
) -> float | None:
    """The lowest threshold in [floor, below) that the audits prove, or None.

    Proven: at least ``min_audits`` audits at or above it and a lower bound at or above
    the target.  Candidates are ``floor`` and the audited confidences (ties are accepted
    together, as serving accepts ``confidence >= threshold``).
    """
    candidates = sorted({floor, *(a.confidence for a in audits if floor <= a.confidence < below)})
    for threshold in candidates:
        evidence = estimate(audits, threshold, settings.confidence)
        if evidence.n >= min_audits and evidence.lower is not None and evidence.lower >= settings.target - 1e-12:
            return threshold
    return None


def decide(
    *,
    window: Sequence[Audit],
    new: Sequence[Audit],
    base_threshold: float,
    current_threshold: float,
    settings: TrustSettings,
) -> Decision:
    """What to do with one source's threshold.

    ``window``: the recent audits of the active model (the sliding window); ``new``: of
    those, the ones answered since the threshold last changed (all of them if it never
    did).  ``base_threshold`` is the model's own; ``current_threshold`` the one in force.
    """
    judged = estimate(window, current_threshold, settings.confidence)
    if judged.n >= settings.min_audits and judged.lower is not None and judged.lower < settings.target - 1e-12:
        proven = proven_threshold(
            window, floor=current_threshold, below=REVIEW_ALL, min_audits=settings.min_audits, settings=settings
        )
        raised = REVIEW_ALL if proven is None else proven
        why = (
            f"{judged.correct}/{judged.n} audits right at {current_threshold:.3f}: lower bound "
            f"{judged.lower:.3f} < target {settings.target:.2f}; "
            + (
                "no confidence is proven by the audits: everything goes to review"
                if proven is None
                else f"the audits prove the target from {raised:.3f}"
            )
        )
        return Decision(RAISE, raised, settings.raised_audit_share, judged, why)
    if current_threshold > base_threshold:
        released = proven_threshold(
            new, floor=base_threshold, below=current_threshold, min_audits=settings.release_audits, settings=settings
        )
        if released is not None:
            proof = estimate(new, released, settings.confidence)
            why = (
                f"{proof.correct}/{proof.n} new audits right at {released:.3f}: lower bound "
                f"{proof.lower:.3f} >= target {settings.target:.2f}"
            )
            share = audit_share(settings, released, base_threshold, window)
            return Decision(LOWER, released, share, proof, why)
    share = audit_share(settings, current_threshold, base_threshold, window)
    return Decision(HOLD, current_threshold, share, judged, "")


def audit_share(settings: TrustSettings, current: float, base: float, window: Sequence[Audit]) -> float:
    """The raised share while a source is raised or (warm-up) has too few audits to judge; the base one else."""
    if settings.base_audit_share <= 0:
        return 0.0  # audits are turned off: nothing to raise
    if current > base or (settings.warmup and len(window) < settings.min_audits):
        return max(settings.raised_audit_share, settings.base_audit_share)
    return settings.base_audit_share


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
