"""Promotion and rollback: exactly one active model, gated, audited, and all content re-predicted."""
from django.db import transaction
from django.utils import timezone

from predictions.model_store import forget_serving_state
from predictions.models import ModelEvent, ModelEventAction, ModelStatus, ModelVersion
from predictions.services.canary import canary_end_running
from predictions.services.gates import PromotionBlocked, PromotionError, gate_failures_against_active


def model_version_promote(
    *, model_version: ModelVersion, promoted_by=None, override_reason: str = ""
) -> ModelVersion:
    """Make ``model_version`` the one active model, if it passes the gates (or is overridden).

    The gates compare it with the active model on today's holdout before any lock is
    taken: evaluation takes seconds and must not hold the row locks.
    """
    if model_version.status not in (ModelStatus.CANDIDATE, ModelStatus.RETIRED):
        raise PromotionError(
            f"v{model_version.number} is {model_version.status}; only a trained candidate can be promoted"
        )
    failures = gate_failures_against_active(model_version, override_reason=override_reason)
    return _activate(
        model_version, actor=promoted_by, action=ModelEventAction.PROMOTED,
        reason=override_reason.strip(), gate_failures=failures,
    )


def model_version_rollback(*, rolled_back_by=None, reason: str = "") -> ModelVersion:
    """Re-activate the model that was active before the current one (no gates: it was trusted before)."""
    last = (
        ModelEvent.objects.filter(
            action__in=[ModelEventAction.PROMOTED, ModelEventAction.ROLLED_BACK],
            model_version__status=ModelStatus.ACTIVE,
            previous_version__isnull=False,
        )
        .select_related("previous_version")
        .first()
    )
    if last is None:
        raise PromotionError("nothing to roll back to: no earlier active model is recorded")
    return _activate(
        last.previous_version, actor=rolled_back_by, action=ModelEventAction.ROLLED_BACK, reason=reason.strip()
    )


@transaction.atomic
def _activate(model_version: ModelVersion, *, actor, action: str, reason: str, gate_failures=()) -> ModelVersion:
    from predictions.tasks import predict_all

    version = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
    # Lock the current active row so two promotions cannot interleave; the partial
    # unique constraint is the last line of defence.
    previous = ModelVersion.objects.select_for_update().filter(status=ModelStatus.ACTIVE).first()
    if previous is not None and previous.pk == version.pk:
        return version
    if version.status not in (ModelStatus.CANDIDATE, ModelStatus.RETIRED):
        raise PromotionError(f"v{version.number} is {version.status} and cannot be made active")
    if previous is not None:
        previous.status = ModelStatus.RETIRED
        previous.save(update_fields=["status"])
    version.status, version.promoted_at = ModelStatus.ACTIVE, timezone.now()
    version.save(update_fields=["status", "promoted_at"])
    ModelEvent.objects.create(
        action=action, model_version=version, previous_version=previous, actor=actor,
        reason=reason, gate_failures=list(gate_failures),
    )
    # A canary compares its candidate with the active model; once that changes, the
    # comparison is over (and re-predicting everything below serves its items again).
    canary_end_running(ended_by=actor, reason=f"v{version.number} became the active model ({action})")
    predict_all.delay_on_commit(version.pk)
    transaction.on_commit(forget_serving_state)
    return version
