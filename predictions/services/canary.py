"""Canary rollout: a candidate serves a sticky share of predictions while the active model keeps the rest.

Items are split by a hash into three groups: the canary's share, served by the
candidate; a control group of the same size, served by the active model; and the
rest, served by the active model as if no canary ran. For the first two, both models
answer and both answers are recorded (``CanaryServing``), so the canary page compares
equal groups on the items people later review and on the wrong-tag reports each drew,
while the rest costs nothing extra.
"""

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from labeling.models import Content, Tag
from ml.items import PredictionResult
from predictions import selectors
from predictions.model_store import forget_serving_state
from predictions.models import (
    Canary,
    CanaryArm,
    CanaryChannel,
    CanaryServing,
    ModelEvent,
    ModelEventAction,
    ModelStatus,
    ModelVersion,
)
from predictions.services.gates import PromotionError, gate_failures_against_active

MAX_SHARE = 0.5


class CanaryError(PromotionError):
    """The canary cannot start or stop as asked."""

    code = "canary_refused"


def content_key(content_id: int) -> str:
    return f"content:{content_id}"


def text_key(text: str) -> str:
    return "text:" + hashlib.sha256(text.encode()).hexdigest()


def arm_for(canary: Canary, key: str) -> str | None:
    """The canary group of ``key``: CANDIDATE, BASELINE (the control group) or None (not in the canary).

    A hash, so the same item always lands in the same group. The canary's id is part of
    it, so each canary tries its candidate on a different sample of items rather than on
    the same unlucky share every time.
    """
    digest = hashlib.sha256(f"canary-{canary.pk}:{key}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < canary.share:
        return CanaryArm.CANDIDATE
    if position < 2 * canary.share:
        return CanaryArm.BASELINE
    return None


def routes_to_candidate(canary: Canary, key: str) -> bool:
    return arm_for(canary, key) == CanaryArm.CANDIDATE


def canary_start(
    *, candidate: ModelVersion, share: float | None = None, started_by: User | None = None, override_reason: str = ""
) -> Canary:
    """Let ``candidate`` serve ``share`` of items beside the active model.

    It must pass the same gates as a promotion (or be overridden with a reason): a canary
    shows its answers to real users.
    """
    share = settings.TAGLOOP_CANARY_SHARE if share is None else share
    # The control group takes as many items again, so half is the most a canary can have.
    most = min(settings.TAGLOOP_CANARY_MAX_SHARE, MAX_SHARE)
    if not 0 < share <= most:
        raise CanaryError(f"the share must be above 0 and at most {most:.0%}")
    if candidate.status != ModelStatus.CANDIDATE:
        raise CanaryError(f"v{candidate.number} is {candidate.status}; only a trained candidate can run a canary")
    active = selectors.active_model_version()
    if active is None:
        raise CanaryError("no model is active: a canary needs an active model to compare with; promote one first")
    failures = gate_failures_against_active(candidate, override_reason=override_reason)
    try:
        with transaction.atomic():
            if Canary.objects.select_for_update().filter(running=True).exists():
                raise CanaryError("a canary is already running: stop it first")
            canary = Canary.objects.create(candidate=candidate, baseline=active, share=share, started_by=started_by)
            ModelEvent.objects.create(
                action=ModelEventAction.CANARY_STARTED,
                model_version=candidate,
                previous_version=active,
                actor=started_by,
                reason=override_reason.strip(),
                gate_failures=failures,
            )
    except IntegrityError:  # another admin started one between the check and the insert
        raise CanaryError("a canary is already running: stop it first") from None
    forget_serving_state()
    return canary


def canary_stop(*, canary: Canary, stopped_by: User | None = None, reason: str = "") -> Canary:
    """End ``canary``; the items its candidate served are served by the active model again."""
    with transaction.atomic():
        # Lock the canary row only: a promotion locks the version rows first, then this one.
        canary = (
            Canary.objects.select_for_update(of=("self",)).select_related("candidate", "baseline").get(pk=canary.pk)
        )
        if not canary.running:
            raise CanaryError("this canary has already ended")
        _end(canary, ended_by=stopped_by, reason=reason.strip() or "stopped")
        served = list(
            canary.servings.filter(served=CanaryArm.CANDIDATE, content__isnull=False).values_list(
                "content_id", flat=True
            )
        )
        if served and canary.baseline.status == ModelStatus.ACTIVE:
            # Lazy: the batch module imports this one to route chunks.
            from predictions.services.batch import content_enqueue_prediction

            content_enqueue_prediction(content_ids=served)
    forget_serving_state()
    return canary


def canary_end_running(*, ended_by=None, reason: str) -> Canary | None:
    """End the running canary, if any, inside the caller's transaction (a promotion or rollback)."""
    canary = Canary.objects.select_for_update(of=("self",)).filter(running=True).select_related("candidate").first()
    if canary is not None:
        _end(canary, ended_by=ended_by, reason=reason)
    return canary


def _end(canary: Canary, *, ended_by, reason: str) -> None:
    canary.running, canary.ended_at, canary.ended_by, canary.end_reason = False, timezone.now(), ended_by, reason
    canary.save(update_fields=["running", "ended_at", "ended_by", "end_reason"])
    ModelEvent.objects.create(
        action=ModelEventAction.CANARY_ENDED,
        model_version=canary.candidate,
        previous_version=canary.baseline,
        actor=ended_by,
        reason=reason,
    )


def canary_beside(version: ModelVersion) -> Canary | None:
    """The running canary whose baseline is ``version``, if any."""
    if not selectors.canary_runs_beside(version.pk):
        return None
    canary = selectors.running_canary()  # read again with its versions: it may have stopped in between
    return canary if canary is not None and canary.baseline_id == version.pk else None


def canary_content_ids(canary: Canary, content_ids: list[int]) -> list[int]:
    """The items of ``content_ids`` in the canary or its control group: the ones both models answer."""
    return [content_id for content_id in content_ids if arm_for(canary, content_key(content_id))]


def servings_record_stream(canary: Canary, *, baseline: list[Any], candidate: list[Any]) -> list[Any] | None:
    """Record both answers for the stored items in the canary; returns the prediction to serve for each item.

    The answers are ``Prediction`` rows or a batch's unsaved answers (anything with
    ``content_id``, ``tag_id`` and ``confidence``).

    ``candidate`` holds the candidate's predictions of the items in the canary or its
    control group. Call inside the transaction that shows the tags. Returns None when
    the canary ended since the chunk started (then the active model serves everything).
    The row lock orders this chunk with a concurrent stop, so a stop sees every item
    the candidate served.
    """
    if not Canary.objects.select_for_update().filter(pk=canary.pk, running=True).exists():
        return None
    by_content = {prediction.content_id: prediction for prediction in candidate}
    served, rows = [], []
    for base in baseline:
        key = content_key(base.content_id)
        arm = arm_for(canary, key)
        if arm is None:
            served.append(base)
            continue
        other = by_content[base.content_id]
        served.append(other if arm == CanaryArm.CANDIDATE else base)
        rows.append(
            CanaryServing(
                canary=canary,
                key=key,
                content_id=base.content_id,
                channel=CanaryChannel.STREAM,
                served=arm,
                baseline_tag_id=base.tag_id,
                baseline_confidence=base.confidence,
                candidate_tag_id=other.tag_id,
                candidate_confidence=other.confidence,
                requests=0,
            )
        )
    # A chunk run twice keeps the first record: the answers and the arm do not change.
    CanaryServing.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return served


def serving_record_online(
    canary: Canary,
    *,
    key: str,
    arm: str,
    content: Content | None,
    baseline: PredictionResult,
    candidate: PredictionResult,
) -> None:
    """Record one online request's two answers, counted per item or text.

    One statement on the hot path of the predict API: insert the record, or count one
    more request on it. The ORM has no "add one on conflict", hence the SQL.
    """
    serving, tag = CanaryServing._meta.db_table, Tag._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {serving} (canary_id, key, content_id, channel, served, baseline_tag_id,
                baseline_confidence, candidate_tag_id, candidate_confidence, requests, created_at)
            VALUES (%s, %s, %s, %s, %s, (SELECT id FROM {tag} WHERE slug = %s), %s,
                (SELECT id FROM {tag} WHERE slug = %s), %s, 1, %s)
            ON CONFLICT (canary_id, key) DO UPDATE SET requests = {serving}.requests + 1
            """,
            [
                canary.pk,
                key,
                content.pk if content is not None else None,
                CanaryChannel.API,
                arm,
                baseline.tag,
                baseline.confidence,
                candidate.tag,
                candidate.confidence,
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )


def serving_count_request(canary: Canary, *, key: str, arm: str) -> bool:
    """Count one online request on the canary's record of an item it serves in ``arm``; False when it has none.

    No insert: an item the workers did not route through this canary is not in it,
    whatever its hash says.
    """
    return bool(CanaryServing.objects.filter(canary=canary, key=key, served=arm).update(requests=F("requests") + 1))


def serving_arm(canary: Canary, *, key: str) -> str | None:
    """The arm the canary recorded for ``key``, or None when it never served it."""
    return CanaryServing.objects.filter(canary=canary, key=key).values_list("served", flat=True).first()
