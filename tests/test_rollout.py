"""Promotion gates, overrides, rollback, cancel, the audit trail, and the queue after a promotion."""
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from labeling.models import ReviewStatus, ReviewTask
from predictions.models import ModelEvent, ModelStatus, ModelVersion
from predictions.services import (
    PromotionBlocked,
    model_version_cancel,
    model_version_promote,
    model_version_request,
    model_version_rollback,
    model_version_train,
    predictions_create,
)
from tests.factories import make_active_model, make_content, make_gold_dataset, make_low_confidence_task

pytestmark = pytest.mark.django_db


def _candidate(number: int, algorithm: str) -> ModelVersion:
    version = ModelVersion.objects.create(number=number, algorithm=algorithm, params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    assert version.status == ModelStatus.CANDIDATE
    return version


def test_a_worse_candidate_is_blocked_until_an_admin_overrides_with_a_reason(tags, model_dir, admin_user):
    active = make_active_model(tags)
    worse = _candidate(2, "majority")
    with pytest.raises(PromotionBlocked) as blocked:
        model_version_promote(model_version=worse, promoted_by=admin_user)
    assert any("overall F1" in failure for failure in blocked.value.failures)
    assert ModelVersion.objects.get(status=ModelStatus.ACTIVE) == active
    model_version_promote(model_version=worse, promoted_by=admin_user, override_reason="testing the floor")
    event = ModelEvent.objects.filter(action="promoted").first()
    assert (event.model_version, event.previous_version, event.actor, event.reason) == (
        worse, active, admin_user, "testing the floor")
    assert event.gate_failures and "overall F1" in event.gate_failures[0]


def test_rollback_restores_the_previous_model_and_is_audited(tags, model_dir, admin_user):
    first = make_active_model(tags)
    second = _candidate(2, "tfidf-linear")
    model_version_promote(model_version=second, promoted_by=admin_user)
    restored = model_version_rollback(rolled_back_by=admin_user, reason="complaints")
    assert restored == first
    assert dict(ModelVersion.objects.values_list("number", "status")) == {1: "active", 2: "retired"}
    event = ModelEvent.objects.first()
    assert (event.action, event.previous_version, event.reason) == ("rolled_back", second, "complaints")


def test_promote_command_names_the_gate_and_the_override(tags, model_dir):
    make_active_model(tags)
    _candidate(2, "majority")
    with pytest.raises(CommandError, match="overall F1.*--override-reason"):
        call_command("promote", "2")
    call_command("promote", "2", "--override-reason", "because")
    assert ModelVersion.objects.get(number=2).status == ModelStatus.ACTIVE


def test_cancel_a_queued_retrain_and_the_worker_then_skips_it(tags, admin_user):
    version = model_version_request(algorithm="rules", requested_by=admin_user)
    model_version_cancel(model_version=version, cancelled_by=admin_user)
    assert model_version_train(model_version_id=version.pk) is None
    version.refresh_from_db()
    assert version.status == ModelStatus.CANCELLED
    assert list(version.events.values_list("action", flat=True)) == ["cancelled", "requested"]
    with pytest.raises(ValueError, match="nothing to cancel"):
        model_version_cancel(model_version=version)


def test_after_a_promotion_sure_items_leave_the_queue_unless_a_person_holds_them(tags, model_dir, annotator):
    version = make_active_model(tags)
    sure_untouched = make_low_confidence_task(content=make_content(title="image segmentation with convolutional networks 0"))
    sure_held = make_low_confidence_task(content=make_content(title="object detection in video frames 0"))
    ReviewTask.objects.filter(pk=sure_held.pk).update(assignee=annotator, lease_expires_at="2999-01-01T00:00:00Z")
    predictions_create(model_version_id=version.pk, content_ids=[sure_untouched.content_id, sure_held.content_id])
    sure_untouched.refresh_from_db()
    sure_held.refresh_from_db()
    assert sure_untouched.status == ReviewStatus.CANCELLED
    assert sure_held.status == ReviewStatus.OPEN


def test_models_pages_compare_and_promote_from_the_browser_flow(client, tags, model_dir, admin_user, annotator):
    make_active_model(tags)
    candidate = _candidate(2, "tfidf-linear")
    client.force_login(annotator)
    assert client.get(reverse("predictions:model-list")).status_code == 403
    client.force_login(admin_user)
    page = client.get(reverse("predictions:model-detail", args=[2])).content.decode()
    assert "beside the active v1" in page and "<svg" in page and "Confusion matrix" in page
    assert "Passes the gates" in page
    response = client.post(reverse("predictions:model-promote", args=[2]))
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == ModelStatus.ACTIVE
    listing = client.get(reverse("predictions:model-list")).content.decode()
    assert "Audit trail" in listing and "promoted" in listing and "holdout weighted F1" in listing
    # The promotion's re-prediction runs on the workers (not in this test): its progress shows.
    assert "re-predicting on the workers" in listing and "of " in listing


def test_a_running_version_row_polls_and_a_finished_one_stops(client, tags, admin_user, model_dir):
    make_gold_dataset(tags)
    client.force_login(admin_user)
    client.post(reverse("predictions:model-retrain"), {"algorithm": "rules", "notes": ""})
    version = ModelVersion.objects.get()
    row = client.get(reverse("predictions:model-row", args=[version.number])).content.decode()
    assert 'hx-trigger="every 1s"' in row and "Cancel" in row
    model_version_train(model_version_id=version.pk)
    row = client.get(reverse("predictions:model-row", args=[version.number])).content.decode()
    assert "hx-trigger" not in row and "candidate" in row


def test_training_without_gold_labels_fails_with_a_clear_reason(tags, model_dir):
    version = model_version_request(algorithm="tfidf-linear")
    with pytest.raises(ValueError):
        model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    assert version.status == ModelStatus.FAILED and "no gold labels in the train split" in version.error


def test_automatic_retrain_starts_after_enough_new_labels_and_never_promotes(tags, model_dir, settings, annotator):
    from labeling.services import review_task_answer, review_task_next
    from predictions.services import auto_retrain_if_due

    settings.TAGLOOP_AUTO_RETRAIN_MIN_NEW_LABELS = 2
    active = make_active_model(tags)
    ModelVersion.objects.filter(pk=active.pk).update(started_at=active.finished_at)
    assert auto_retrain_if_due() is None  # nothing decided since the snapshot
    for _ in range(2):
        task = make_low_confidence_task()
        review_task_next(user=annotator)
        review_task_answer(task_id=task.pk, user=annotator, tag=tags["other"])
    version = auto_retrain_if_due()
    assert version is not None and version.status == ModelStatus.QUEUED and "2 new gold labels" in version.notes
    assert auto_retrain_if_due() is None  # one run at a time
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    assert version.status == ModelStatus.CANDIDATE
    assert ModelVersion.objects.get(status=ModelStatus.ACTIVE) == active


def test_report_rates_per_tag_and_version_on_the_models_page(client, tags, model_dir, admin_user):
    from labeling.services import report_create

    version = make_active_model(tags)
    predictions_create(model_version_id=version.pk, content_ids=[make_content().pk])
    content = make_content(current_tag=tags["mlops"], current_model_version=version.number)
    report_create(content=content, reporter_address="1.1.1.1")
    client.force_login(admin_user)
    page = client.get(reverse("predictions:model-list")).content.decode()
    assert "Wrong-tag reports" in page
    from predictions.selectors import report_rates

    rates = report_rates()
    by_version = {row["name"]: row for row in rates["by_version"]}
    assert by_version[f"v{version.number}"]["reports"] == 1
    assert {row["name"]: row["reports"] for row in rates["by_tag"]}["mlops"] == 1
