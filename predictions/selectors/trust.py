"""Reads for the live-precision automation: answered audits, the thresholds and audit shares in force.

An audit is a blind audit-sample task that is done and whose item has a gold label
decided by people: the task's snapshot (the model version, its tag and probabilities
when the task opened) against that label.  Only audits of the version in question count.
"""

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.utils import timezone

from labeling.models import Content, Provenance, ReviewReason, ReviewStatus, ReviewTask
from ml.second_opinion import (
    CONFIRMS,
    CONTRADICTS,
    SILENT,
    RulesOpinion,
    TrustScore,
)
from ml.text import prepare_text
from ml.trust import REVIEW_ALL, Audit, TrustSettings, estimate, precision_series
from predictions.models import ModelEvent, ModelVersion, SourceThreshold
from predictions.selectors import active_model_version
from predictions.selectors.thresholds import review_threshold

# Serving reads the thresholds on every online prediction: a process keeps them this long.
THRESHOLDS_TTL_SECONDS = 1.0


@dataclass(frozen=True)
class LiveAudit:
    content_id: int
    source: str
    confidence: float  # the acceptance score: the version's trust score when it has one, else the confidence
    correct: bool
    decided_at: datetime

    @property
    def audit(self) -> Audit:
        return Audit(self.confidence, self.correct)


def trust_settings() -> TrustSettings:
    return TrustSettings(
        target=settings.TAGLOOP_TARGET_PRECISION,
        confidence=settings.TAGLOOP_TRUST_CONFIDENCE,
        min_audits=settings.TAGLOOP_TRUST_MIN_AUDITS,
        release_audits=settings.TAGLOOP_TRUST_RELEASE_AUDITS,
        base_audit_share=settings.TAGLOOP_AUDIT_SHARE,
        raised_audit_share=settings.TAGLOOP_TRUST_RAISED_AUDIT_SHARE,
        warmup=settings.TAGLOOP_TRUST_WARMUP,
        settle_audits=settings.TAGLOOP_TRUST_SETTLE_AUDITS,
        prior_weight=settings.TAGLOOP_TRUST_PRIOR_WEIGHT,
        window_items=settings.TAGLOOP_TRUST_WINDOW_ITEMS,
        risk=settings.TAGLOOP_TRUST_RISK,
    )


def trust_prior(version: ModelVersion) -> list[Audit]:
    """The version's time-ordered validation (ml.time_validation), stored at training: the live judgement's prior.

    Empty for a version trained without it (too little data, the feature off, or before it existed).
    """
    stored = (version.cv_metrics or {}).get("time_validation") or {}
    return [Audit(float(confidence), bool(correct)) for confidence, correct in stored.get("items", [])]


def version_trust_score(version: ModelVersion) -> TrustScore | None:
    """The trust score fitted at training on the time-ordered validation (ml.second_opinion); None: the confidence."""
    stored = ((version.cv_metrics or {}).get("time_validation") or {}).get("trust_score")
    return TrustScore.from_dict(stored) if stored else None


def acceptance_score(version: ModelVersion, *, text: str, tag: str, confidence: float) -> float:
    """What the version's thresholds judge for one prediction: its trust score, or its confidence without one.

    ``text`` is the prepared text (ml.text.prepare_text): the keyword rules read it.
    """
    return acceptance_scorer(version)(text, tag, confidence)


def acceptance_scorer(version: ModelVersion) -> Callable[[str, str, float], float]:
    """:func:`acceptance_score` as a function of (prepared text, tag, confidence): the stored score is read and the
    rules' patterns looked up once, when it is made (online serving keeps one per served version)."""
    score = version_trust_score(version)
    if score is None:
        return lambda text, tag, confidence: confidence
    trust, opinion = score.scorer(), RulesOpinion()
    return lambda text, tag, confidence: trust(confidence, opinion(text, tag))


def acceptance_scores(
    version: ModelVersion, *, texts: Sequence[str], tags: Sequence[str], confidences: Sequence[float]
) -> list[float]:
    """:func:`acceptance_score` of many predictions of one version at once (a re-prediction chunk's).

    The stored score is read and the rules' patterns looked up once for all: per item they cost more than the score.
    """
    score = acceptance_scorer(version)
    return [score(text, tag, confidence) for text, tag, confidence in zip(texts, tags, confidences)]


def acceptance_below(
    version: ModelVersion,
    *,
    texts: Sequence[str],
    tags: Sequence[str],
    confidences: Sequence[float],
    thresholds: Sequence[float],
) -> list[bool]:
    """Whether each prediction's :func:`acceptance_score` is below its threshold (a re-prediction chunk's verdicts).

    The same verdicts as comparing :func:`acceptance_scores` with the thresholds, but the keyword rules read a text
    only where their opinion can change the verdict (ml.second_opinion.TrustScore.below): on the benchmark's
    promotions about three items in five are decided by their confidence alone, and the regexes were most of a
    score's cost.
    """
    score = version_trust_score(version)
    if score is None:
        return [confidence < threshold for confidence, threshold in zip(confidences, thresholds)]
    opinion = RulesOpinion()
    judges = {threshold: score.below(threshold) for threshold in set(thresholds)}
    return [
        judges[threshold](confidence, partial(opinion, text, tag))
        for text, tag, confidence, threshold in zip(texts, tags, confidences, thresholds)
    ]


def trust_audits(*, version: ModelVersion, source: str | None = None, windowed: bool = True) -> list[LiveAudit]:
    """The version's answered audits (of one source, or all), oldest decision first.

    ``windowed``: only the sliding window, the last TAGLOOP_TRUST_WINDOW_AUDITS per
    source, or those decided in the last TAGLOOP_TRUST_WINDOW_HOURS when that is set.
    """
    tasks = ReviewTask.objects.filter(
        reason=ReviewReason.AUDIT_SAMPLE,
        status=ReviewStatus.DONE,
        model_version=version.number,
        content__gold_label__isnull=False,
    ).exclude(content__gold_label__provenance=Provenance.IMPORTED)
    if source is not None:
        tasks = tasks.filter(content__source=source)
    hours = settings.TAGLOOP_TRUST_WINDOW_HOURS
    if windowed and hours:
        tasks = tasks.filter(content__gold_label__decided_at__gte=timezone.now() - timedelta(hours=hours))
    rows = tasks.order_by("content__gold_label__decided_at", "content_id").values_list(
        "content_id",
        "content__source",
        "predicted_tag",
        "probabilities",
        "content__gold_label__tag__slug",
        "content__gold_label__decided_at",
        "content__title",
        "content__description",
    )
    answered = [row for row in rows if row[2] and row[3]]  # a snapshot with a predicted tag and its probabilities
    # An audit counts at its acceptance score, the scale the thresholds are on (the trust score, or the confidence).
    scores = acceptance_scores(
        version,
        texts=[prepare_text(title, description) for *_, title, description in answered],
        tags=[predicted for _, _, predicted, *_ in answered],
        confidences=[max(probabilities.values()) for _, _, _, probabilities, *_ in answered],
    )
    audits = [
        LiveAudit(content_id, item_source, score, predicted == gold, decided_at)
        for (content_id, item_source, predicted, _, gold, decided_at, _, _), score in zip(answered, scores)
    ]
    if windowed and not hours:
        return _last_per_source(audits, settings.TAGLOOP_TRUST_WINDOW_AUDITS)
    return audits


def window_errors(*, audits: list[LiveAudit], source: str, threshold: float, window_items: int) -> int:
    """Errors the audits found among the source's last ``window_items`` items that ``threshold`` accepts.

    The promise is per window of arriving items: these errors are already spent from the
    window's allowance (ml.trust.decide's ``spent``).  An item is in the window while fewer
    than ``window_items`` newer items of its source exist; each question stops after that
    many rows, so a source of a million items costs no more than a small one.
    """
    wrong = sorted(
        {a.content_id for a in audits if a.source == source and not a.correct and a.confidence >= threshold},
        reverse=True,
    )
    spent = 0
    for content_id in wrong:  # newest first: once one is out of the window, the older ones are too
        newer = Content.objects.filter(source=source, pk__gt=content_id).order_by("pk")[:window_items]
        if newer.count() >= window_items:
            break
        spent += 1
    return spent


def _last_per_source(audits: list[LiveAudit], size: int) -> list[LiveAudit]:
    kept: dict[str, list[LiveAudit]] = {}
    for audit in audits:
        kept.setdefault(audit.source, []).append(audit)
    last = {id(a) for group in kept.values() for a in group[-size:]}
    return [a for a in audits if id(a) in last]


def trust_sources(*, version: ModelVersion) -> list[str]:
    """Sources with audits of the version or a threshold row."""
    audited = ReviewTask.objects.filter(
        reason=ReviewReason.AUDIT_SAMPLE, model_version=version.number, status=ReviewStatus.DONE
    ).values_list("content__source", flat=True)
    return sorted(set(audited) | set(SourceThreshold.objects.values_list("source", flat=True)))


@dataclass(frozen=True)
class Thresholds:
    """The thresholds in force for one version: per source, and for items of no known source."""

    version_id: int
    own: float  # the version's own threshold
    by_source: dict[str, float]  # sources whose threshold is not the version's own
    shares: dict[str, float]  # sources whose audit share is not the base one
    default_share: float  # a source with no row of this version (warm-up, or the base share)

    def for_source(self, source: str | None) -> float:
        """A text of no known source (an online request about no stored item) gets the strictest in force."""
        if source is None:
            return max([self.own, *self.by_source.values()])
        return self.by_source.get(source, self.own)

    def audit_share(self, source: str) -> float:
        return self.shares.get(source, self.default_share)


def thresholds_in_force(*, version: ModelVersion) -> Thresholds:
    """A pin first, then the automation's threshold for this version, else the version's own."""
    own = review_threshold(version)
    policy = trust_settings()
    enabled = settings.TAGLOOP_TRUST_ENABLED
    by_source, shares = {}, {}
    for row in SourceThreshold.objects.all():
        automatic = enabled and row.model_version_id == version.pk
        if row.pinned_threshold is not None:
            by_source[row.source] = row.pinned_threshold
        elif automatic and row.threshold is not None:
            by_source[row.source] = row.threshold
        if automatic and row.audit_share is not None:
            shares[row.source] = row.audit_share
    default_share = settings.TAGLOOP_AUDIT_SHARE
    if enabled and policy.warmup and default_share > 0:
        default_share = max(default_share, policy.raised_audit_share)  # no audits of this version yet
    return Thresholds(version.pk, own, by_source, shares, default_share)


_cache: dict = {"read_at": float("-inf"), "value": None}
_lock = threading.Lock()


def thresholds_cached(*, version: ModelVersion) -> Thresholds:
    """``thresholds_in_force`` kept THRESHOLDS_TTL_SECONDS per process: online serving reads it per request."""
    now = time.monotonic()
    with _lock:
        value = _cache["value"]
        if value is not None and value.version_id == version.pk and now - _cache["read_at"] < THRESHOLDS_TTL_SECONDS:
            return value
    value = thresholds_in_force(version=version)
    with _lock:
        _cache.update(read_at=now, value=value)
    return value


def forget_thresholds() -> None:
    with _lock:
        _cache.update(read_at=float("-inf"), value=None)


def trust_overview() -> dict:
    """For /monitoring/: per source, the thresholds in force, the live precision with its bound, the
    precision per block of audits (the plot) and the latest threshold changes with their evidence."""
    version = active_model_version()
    policy = trust_settings()
    events = list(
        ModelEvent.objects.filter(source__gt="")
        .select_related("model_version", "actor")
        .order_by("-created_at", "-pk")[:EVENTS_SHOWN]
    )
    if version is None:
        return {"version": None, "sources": [], "events": events, "policy": policy}
    in_force = thresholds_in_force(version=version)
    rows = {row.source: row for row in SourceThreshold.objects.select_related("pinned_by")}
    every = trust_audits(version=version, windowed=False)
    window = trust_audits(version=version)
    prior = trust_prior(version)
    score = version_trust_score(version)
    sources = []
    for source in sorted({a.source for a in every} | set(rows)):
        row = rows.get(source)
        threshold = in_force.for_source(source)
        mine = [a.audit for a in window if a.source == source]
        history = [a for a in every if a.source == source]
        sources.append(
            {
                "source": source,
                "own": in_force.own,
                "threshold": threshold,
                "review_all": threshold >= REVIEW_ALL,
                "state": _state(row, version, threshold, in_force.own, len(mine), policy),
                "pinned": row.pinned_threshold if row else None,
                "row": row,
                "audit_share": in_force.audit_share(source),
                "estimate": estimate(mine, threshold, policy, prior=prior),
                "estimate_own": estimate(mine, in_force.own, policy, prior=prior),
                "window": len(mine),
                "plot": _plot(source, version, history, in_force.own, policy),
                "needed": _confidence_needed(score, threshold),
            }
        )
    return {
        "version": version,
        "sources": sources,
        "events": events,
        "policy": policy,
        "time_validation": (version.cv_metrics or {}).get("time_validation") or {},
        "trust_score": score,
    }


def _confidence_needed(score: TrustScore | None, threshold: float) -> dict[str, float | None] | None:
    """Why an item was not auto-accepted: the confidence it needs at ``threshold``, by the keyword rules' opinion.

    None without a trust score (the threshold is on the confidence itself); a None figure: no confidence is enough.
    """
    if score is None:
        return None
    return {
        "confirms": score.confidence_needed(threshold, CONFIRMS),
        "silent": score.confidence_needed(threshold, SILENT),
        "contradicts": score.confidence_needed(threshold, CONTRADICTS),
    }


EVENTS_SHOWN = 20


def _state(row, version, threshold: float, own: float, audits: int, policy: TrustSettings) -> str:
    if row is not None and row.pinned_threshold is not None:
        return "pinned"
    if threshold >= REVIEW_ALL:
        return "everything to review"
    if threshold > own:
        return "raised"
    if threshold < own:
        return "lowered on evidence"  # below a model's own that proved nothing
    if audits < policy.min_audits:
        return "warming up"
    return "model's own"


def _plot(source: str, version: ModelVersion, history: list[LiveAudit], own: float, policy: TrustSettings) -> dict:
    """Precision of consecutive blocks of audits, each accepted at the threshold in force when it was decided."""
    changes = list(
        ModelEvent.objects.filter(source=source, model_version=version, action__startswith="threshold_")
        .order_by("created_at", "pk")
        .values_list("created_at", "details")
    )
    thresholds = []
    for audit in history:
        threshold = own
        for at, details in changes:
            if at <= audit.decided_at and details.get("new_threshold") is not None:
                threshold = details["new_threshold"]
        thresholds.append(threshold)
    block = max(policy.min_audits // 2, 5)
    blocks = precision_series(
        [a.audit for a in history], thresholds=thresholds, block=block, confidence=policy.confidence
    )
    labels = [f"{k * block + 1}–{k * block + b['audits']}" for k, b in enumerate(blocks)]
    values = [v for b in blocks for v in (b["precision"], b["lower"]) if v is not None]
    return {
        # The interesting range is near the target: start the axis at 0.5 unless a value is lower.
        "minimum": min([0.5, *(math.floor(v * 10) / 10 for v in values)]),
        "labels": labels,
        "series": {
            "precision": [b["precision"] for b in blocks],
            "lower bound": [b["lower"] for b in blocks],
        },
        "block": block,
    }


@dataclass(frozen=True)
class SourceTrust:
    """One source's state for /metrics: the threshold and audit share in force, and the last judgement."""

    source: str
    threshold: float
    audit_share: float
    pinned: bool
    audits_judged: int | None  # None: never judged for the active version
    precision_lower_bound: float | None
    window_risk: float | None  # the chance that a window misses the target, at that judgement


def trust_metrics() -> tuple[float | None, list[SourceTrust]]:
    """The active version's own threshold (None: no active version) and each known source's state."""
    version = active_model_version()
    if version is None:
        return None, []
    in_force = thresholds_in_force(version=version)
    rows = []
    for row in SourceThreshold.objects.all():
        judged = row.evidence.get("judged", {}) if row.model_version_id == version.pk else {}
        rows.append(
            SourceTrust(
                source=row.source,
                threshold=in_force.for_source(row.source),
                audit_share=in_force.audit_share(row.source),
                pinned=row.pinned_threshold is not None,
                audits_judged=judged.get("n"),
                precision_lower_bound=judged.get("lower"),
                window_risk=judged.get("risk"),
            )
        )
    return in_force.own, rows
