"""The trust check on a real worker: beat's task raises a source's threshold, and the worker's predictions follow it."""

import pytest
from django.db import transaction

from labeling.models import ReviewReason, ReviewStatus, ReviewTask
from ml.trust import REVIEW_ALL
from predictions.models import Lease, ModelEvent, SourceThreshold
from predictions.services import content_enqueue_prediction
from predictions.tasks import trust_check
from tests.conftest import wait_until
from tests.factories import make_active_model, make_content
from tests.test_trust import answered_audit

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_beat_task_raises_a_falling_source_and_the_workers_predictions_send_its_items_to_review(
    celery_worker_process, tags, settings
):
    settings.MODEL_DIR = celery_worker_process["model_dir"]
    version = make_active_model(tags)  # the worker reads it from the model store
    for k in range(25):  # 15/25 right: well short of 0.95
        answered_audit(tags, version, source="feed", confidence=0.99, right=k % 5 > 1)
    trust_check.delay()
    row = wait_until(
        lambda: SourceThreshold.objects.filter(source="feed", threshold=REVIEW_ALL).first(),
        timeout=60,
        message="the worker's trust check",
    )
    assert row.model_version_id == version.pk and row.evidence["judged"]["n"] == 25
    assert ModelEvent.objects.get(source="feed").details["correct"] == 15
    assert Lease.objects.filter(name="trust-check", last_run_at__isnull=False).exists()
    confident = dict(title="object detection in video frames 9", description="A note on object detection.")
    fed, other = make_content(source="feed", **confident), make_content(source="other-feed", **confident)
    with transaction.atomic():
        content_enqueue_prediction(content_ids=[fed.pk, other.pk])
    wait_until(
        lambda: ReviewTask.objects.filter(content=fed, status=ReviewStatus.OPEN).exists(),
        timeout=90,
        message="the worker predicting the feed's item",
    )
    reasons = set(ReviewTask.objects.filter(content=fed).values_list("reason", flat=True))
    assert reasons & {ReviewReason.LOW_CONFIDENCE, ReviewReason.AUDIT_SAMPLE}
    assert not ReviewTask.objects.filter(content=other, reason=ReviewReason.LOW_CONFIDENCE).exists()
