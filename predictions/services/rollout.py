"""Promotion and rollback: exactly one active model, gated, audited, and all content re-predicted."""

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from predictions import selectors
from predictions.artifact_store import artifact_exists
from predictions.model_store import forget_serving_state
from predictions.models import ModelEvent, ModelEventAction, ModelStatus, ModelVersion
from predictions.services.canary import canary_end_running
from predictions.services.gates import PromotionError, gate_failures_against_active
from predictions.services.jobs import jobs_create_predict
from webhooks.events import emit
from webhooks.models import Event


def model_version_promote(
    *, model_version: ModelVersion, promoted_by: User | None = None, override_reason: str = ""
) -> ModelVersion:
    """Make ``model_version`` the one active model, if it passes the gates (or is overridden).

    The gates compare it with the active model on today's holdout before any lock is
    taken: evaluation takes seconds and must not hold the row locks.
    """
    if model_version.status not in (ModelStatus.CANDIDATE, ModelStatus.RETIRED):
        raise PromotionError(
            f"v{model_version.number} is {model_version.status}; only a trained candidate can be promoted"
        )
    compared_with = ModelVersion.objects.filter(status=ModelStatus.ACTIVE).values_list("pk", flat=True).first()
    failures = gate_failures_against_active(model_version, override_reason=override_reason)
    return _activate(
        model_version,
        actor=promoted_by,
        action=ModelEventAction.PROMOTED,
        reason=override_reason.strip(),
        gate_failures=failures,
        expected_previous_pk=compared_with,
    )


def model_version_rollback(
    *, rolled_back_by: User | None = None, reason: str = "", expected_number: int | None = None
) -> ModelVersion:
    """Re-activate the model that was active before the current one was promoted (no gates: it was trusted then).

    Each rollback walks one promotion further back, so rolling back twice never brings
    back the model the first rollback left. A reason is required, as for a gate override:
    the audit trail must say why a trusted model was replaced. ``expected_number`` is the
    version the person was shown; if another change moved the target since, nothing happens.
    """
    if not reason.strip():
        raise PromotionError("give a reason for the rollback: it is recorded in the audit trail")
    with transaction.atomic():
        _one_activation_at_a_time()  # first, as in _activate: the same lock order, no deadlock
        target = rollback_target()
        if target is None:
            raise PromotionError("nothing to roll back to: no model was active before the current one was promoted")
        if expected_number is not None and target.number != expected_number:
            raise PromotionError(
                f"the rollback would now activate v{target.number}, not v{expected_number}; reload and check"
            )
        # Lock as a promotion does (the version, then the active row: no deadlock between
        # the two), then make sure no promotion or rollback moved the target meanwhile.
        list(ModelVersion.objects.select_for_update().filter(pk=target.pk))
        active = ModelVersion.objects.select_for_update().filter(status=ModelStatus.ACTIVE).first()
        if _rollback_target(active) != target:
            raise PromotionError("another promotion or rollback happened at the same time; reload and check")
        return _activate(target, actor=rolled_back_by, action=ModelEventAction.ROLLED_BACK, reason=reason.strip())


def rollback_target() -> ModelVersion | None:
    """The version a rollback would activate now (for the button), or None."""
    return _rollback_target(ModelVersion.objects.filter(status=ModelStatus.ACTIVE).first())


def _rollback_target(active: ModelVersion | None) -> ModelVersion | None:
    """Walk the promotions back from ``active``: the version each one replaced.

    A version that was rolled back away from after that promotion is skipped (it was
    judged bad), and the walk continues from the promotion that made it active. Events
    are read newest first, so the walk only ever moves back in time and ends.
    """
    if active is None:
        return None
    events = list(
        ModelEvent.objects.filter(action__in=[ModelEventAction.PROMOTED, ModelEventAction.ROLLED_BACK])
        .order_by("-created_at", "-pk")
        .values_list("action", "model_version_id", "previous_version_id")
    )
    # Versions rolled back away from in the events newer than the one being read.
    rejected, current = {active.pk}, active.pk
    for action, version_id, previous_id in events:
        if action == ModelEventAction.ROLLED_BACK:
            rejected.add(previous_id)
        elif version_id == current:
            if previous_id is None:
                return None
            if previous_id not in rejected:
                return ModelVersion.objects.get(pk=previous_id)
            current = previous_id
    return None


# Any previous active model will do (a rollback checks its own target).
ANY_PREVIOUS = object()
# pg_advisory_xact_lock key: one activation at a time ("tagl" in ASCII).
ACTIVATION_LOCK = 0x7461676C


@transaction.atomic
def _activate(
    model_version: ModelVersion, *, actor, action: str, reason: str, gate_failures=(), expected_previous_pk=ANY_PREVIOUS
) -> ModelVersion:
    _one_activation_at_a_time()
    version = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
    # The partial unique constraint on the active row is the last line of defence.
    previous = ModelVersion.objects.select_for_update().filter(status=ModelStatus.ACTIVE).first()
    if previous is not None and previous.pk == version.pk:
        return version
    if expected_previous_pk is not ANY_PREVIOUS and (previous.pk if previous else None) != expected_previous_pk:
        # The gates compared with a model that is no longer the active one.
        raise PromotionError("another promotion or rollback happened at the same time; reload and check")
    if version.status not in (ModelStatus.CANDIDATE, ModelStatus.RETIRED):
        raise PromotionError(f"v{version.number} is {version.status} and cannot be made active")
    if not artifact_exists(version):
        # Activating it would take every prediction down (the API answers 503).
        raise PromotionError(f"v{version.number} cannot serve: its artifact {version.artifact_path} is missing")
    if previous is not None:
        previous.status = ModelStatus.RETIRED
        previous.save(update_fields=["status"])
    version.status, version.promoted_at = ModelStatus.ACTIVE, timezone.now()
    version.save(update_fields=["status", "promoted_at"])
    ModelEvent.objects.create(
        action=action,
        model_version=version,
        previous_version=previous,
        actor=actor,
        reason=reason,
        gate_failures=list(gate_failures),
    )
    # A canary compares its candidate with the active model; once that changes, the
    # comparison is over (and re-predicting everything below serves its items again).
    canary_end_running(ended_by=actor, reason=f"v{version.number} became the active model ({action})")
    # The re-prediction is recorded with the activation: it happens even if the broker
    # or a worker fails on the way (the reconciler sends what no worker finished).
    jobs_create_predict(model_version=version, content_ids=selectors.all_content_ids())
    transaction.on_commit(forget_serving_state)
    event = Event.MODEL_ROLLED_BACK if action == ModelEventAction.ROLLED_BACK else Event.MODEL_PROMOTED
    emit(
        event,
        {
            "version": version.number,
            "algorithm": version.algorithm,
            "previous_version": previous.number if previous else None,
            "by": actor.get_username() if actor else None,
            "reason": reason,
            "gate_failures": list(gate_failures),
        },
    )
    return version


def _one_activation_at_a_time() -> None:
    """Serialise promotions and rollbacks for the rest of the transaction.

    Locking the active row is not enough: a promotion that waited on it reads no
    active row once the first one commits (the row it waited for is retired, and the
    new one is outside its snapshot), and would make a second active model. After
    this lock, every query sees what the previous activation committed. SQLite
    serialises writing transactions by itself.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ACTIVATION_LOCK])
