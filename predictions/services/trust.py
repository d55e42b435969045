"""The threshold keeps its promise on the live stream: act on audits, per source; pins; the audit trail.

The policy is ml.trust (shared with ``make bench-trust``); this module feeds it the
audits of the active model (predictions.selectors.trust), keeps each source's state on
its SourceThreshold row, and records every change of a source's effective threshold in
the audit trail through one function, :func:`threshold_change_record`.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import ApplicationError
from ml.trust import HOLD, LOWER, RAISE, REVIEW_ALL, Decision, decide, estimate
from predictions import selectors
from predictions.models import ModelEvent, ModelEventAction, ModelVersion, SourceThreshold
from predictions.selectors.thresholds import review_threshold
from predictions.selectors.trust import (
    forget_thresholds,
    trust_audits,
    trust_prior,
    trust_settings,
    trust_sources,
    window_errors,
)
from webhooks.events import threshold_changed

logger = logging.getLogger(__name__)

ACTIONS = {RAISE: ModelEventAction.THRESHOLD_RAISED, LOWER: ModelEventAction.THRESHOLD_LOWERED}


class ThresholdError(ApplicationError):
    """A pin that cannot be made: no active model, no source or reason, a threshold out of range."""

    code = "threshold_refused"
    http_status = 400


@dataclass(frozen=True)
class SourceCheck:
    source: str
    action: str  # ml.trust RAISE, LOWER or HOLD; "pinned" when a pin holds the source
    threshold: float  # the automation's threshold after the check
    evidence: dict


def trust_check(*, source: str | None = None) -> list[SourceCheck]:
    """Judge every source with audits of the active model (or one source); returns what each check did."""
    if not settings.TAGLOOP_TRUST_ENABLED:
        return []
    version = selectors.active_model_version()
    if version is None:
        return []
    sources = [source] if source is not None else trust_sources(version=version)
    checks = [trust_check_source(version=version, source=name) for name in sources]
    forget_thresholds()
    return checks


@transaction.atomic
def trust_check_source(*, version: ModelVersion, source: str) -> SourceCheck:
    """One source: judge its window of audits, move its threshold and audit share, record a change.

    The row is locked, so two workers checking one source at once (beat and an answered
    audit) act once: the second sees the first's change and its ``changed_at``.
    """
    SourceThreshold.objects.get_or_create(source=source, defaults={"model_version": version})
    row = SourceThreshold.objects.select_for_update().get(source=source)
    if row.model_version_id != version.pk:
        # Another model is active: its promise is judged on its own audits, afresh.
        row.model_version, row.threshold, row.audit_share, row.changed_at = version, None, None, None
    window = trust_audits(version=version, source=source)
    new = [a for a in window if row.changed_at is None or a.decided_at > row.changed_at]
    base = review_threshold(version)
    current = row.threshold if row.threshold is not None else base
    policy = trust_settings()
    prior = trust_prior(version)
    spent = window_errors(audits=window, source=source, threshold=current, window_items=policy.window_items)
    decision = decide(
        window=[a.audit for a in window],
        new=[a.audit for a in new],
        base_threshold=base,
        current_threshold=current,
        settings=policy,
        prior=prior,
        spent=spent,
    )
    now = timezone.now()
    in_force = estimate([a.audit for a in window], decision.threshold, policy, prior=prior, spent=spent)
    row.evidence = {
        **in_force.as_dict(),
        "window": len(window),
        "new": len(new),
        "target": policy.target,
        "confidence": policy.confidence,
        "risk_allowed": policy.risk,
        "window_items": policy.window_items,
        "judged": decision.estimate.as_dict(),
    }
    row.audit_share, row.checked_at = decision.audit_share, now
    if decision.action != HOLD:
        row.threshold = None if decision.threshold == base else decision.threshold
        row.changed_at = now
        if row.pinned_threshold is None:
            threshold_change_record(
                source=source,
                version=version,
                action=ACTIONS[decision.action],
                old=current,
                new=decision.threshold,
                evidence=_evidence(decision, len(window), len(new)),
                reason=decision.reason,
            )
        else:
            logger.info(
                "trust: %s %s under a pin (%s); the pin stays in force", source, decision.action, decision.reason
            )
    row.save()
    action = "pinned" if row.pinned_threshold is not None else decision.action
    return SourceCheck(source, action, decision.threshold, row.evidence)


def _evidence(decision: Decision, window: int, new: int) -> dict:
    return {**decision.estimate.as_dict(), "window": window, "new": new, "audit_share": decision.audit_share}


def threshold_change_record(
    *,
    source: str,
    version: ModelVersion,
    action: str,
    old: float | None,
    new: float | None,
    evidence: dict | None = None,
    actor=None,
    reason: str = "",
) -> ModelEvent:
    """The one place a change of a source's effective threshold is recorded (audit trail; hooks go here).

    ``old``/``new`` are the thresholds in force before and after (None: the pin was lifted
    and the automation's or the model's threshold applies again). Called inside the
    change's transaction.
    """
    event = ModelEvent.objects.create(
        action=action,
        model_version=version,
        actor=actor,
        reason=reason,
        source=source,
        details={
            "old_threshold": old,
            "new_threshold": new,
            "review_all": (new or 0) >= REVIEW_ALL,
            **(evidence or {}),
        },
    )
    transaction.on_commit(forget_thresholds)
    threshold_changed(
        model_version=version.number,
        source=source,
        action=action,
        old=old,
        new=new,
        changed_by=actor.get_username() if actor else "",
        reason=reason,
        evidence=evidence,
    )
    return event


@transaction.atomic
def threshold_pin(*, source: str, threshold: float, actor, reason: str) -> SourceThreshold:
    """An admin fixes a source's threshold; the automation keeps judging but the pin is in force."""
    if not 0 <= threshold <= REVIEW_ALL:
        raise ThresholdError(f"threshold must be between 0 and {REVIEW_ALL} (everything to review), not {threshold}")
    if not source.strip():
        raise ThresholdError("name the source to pin")
    if not reason.strip():
        raise ThresholdError("say why the threshold is pinned")
    version = _active_or_error()
    SourceThreshold.objects.get_or_create(source=source, defaults={"model_version": version})
    row = SourceThreshold.objects.select_for_update().get(source=source)
    old = _in_force(row, version)
    row.pinned_threshold, row.pinned_by, row.pinned_at, row.pin_reason = threshold, actor, timezone.now(), reason
    row.save()
    threshold_change_record(
        source=source,
        version=version,
        action=ModelEventAction.THRESHOLD_PINNED,
        old=old,
        new=threshold,
        actor=actor,
        reason=reason,
    )
    return row


@transaction.atomic
def threshold_unpin(*, source: str, actor, reason: str = "") -> SourceThreshold:
    version = _active_or_error()
    row = SourceThreshold.objects.select_for_update().filter(source=source, pinned_threshold__isnull=False).first()
    if row is None:
        raise ThresholdError(f"the threshold of {source!r} is not pinned")
    old = row.pinned_threshold
    row.pinned_threshold, row.pinned_by, row.pinned_at, row.pin_reason = None, None, None, ""
    row.save()
    threshold_change_record(
        source=source,
        version=version,
        action=ModelEventAction.THRESHOLD_UNPINNED,
        old=old,
        new=_in_force(row, version),
        actor=actor,
        reason=reason,
    )
    return row


def _active_or_error() -> ModelVersion:
    version = selectors.active_model_version()
    if version is None:
        raise ThresholdError("no model is active: there is no threshold to pin")
    return version


def _in_force(row: SourceThreshold, version: ModelVersion) -> float:
    if row.pinned_threshold is not None:
        return row.pinned_threshold
    if settings.TAGLOOP_TRUST_ENABLED and row.model_version_id == version.pk and row.threshold is not None:
        return row.threshold
    return review_threshold(version)
