"""Promotion gates, overrides, rollback, cancel, the audit trail, and the queue after a promotion."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from labeling.models import Content, ReviewStatus, ReviewTask
from predictions.models import Canary, Job, JobKind, ModelEvent, ModelStatus, ModelVersion
from predictions.services import (
    PromotionBlocked,
    PromotionError,
    canary_start,
    model_version_cancel,
    model_version_promote,
    model_version_request,
    model_version_rollback,
    model_version_train,
    predictions_create,
)
from predictions.services.rollout import rollback_target
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
        worse,
        active,
        admin_user,
        "testing the floor",
    )
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


def _promote(version: ModelVersion, user) -> None:
    version.refresh_from_db()  # a version may be promoted again after a later one replaced it
    model_version_promote(model_version=version, promoted_by=user, override_reason="test")


def _active_numbers() -> list[int]:
    # The partial unique constraint allows one; the list shows a broken invariant plainly.
    return list(ModelVersion.objects.filter(status=ModelStatus.ACTIVE).values_list("number", flat=True))


def test_rolling_back_twice_walks_back_the_promotions_not_forth(tags, model_dir, admin_user):
    v1 = make_active_model(tags)
    v2, v5 = _candidate(2, "rules"), _candidate(5, "majority")
    _promote(v2, admin_user)
    _promote(v5, admin_user)
    canary = canary_start(candidate=_candidate(6, "rules"), share=0.1, override_reason="watching")
    assert rollback_target() == v2
    jobs_before = Job.objects.count()
    assert model_version_rollback(rolled_back_by=admin_user, reason="v5 tags badly") == v2
    # The re-prediction is recorded with the rollback: jobs of v2 covering every item, once.
    new_jobs = Job.objects.order_by("pk")[jobs_before:]
    assert {(job.model_version_id, job.kind) for job in new_jobs} == {(v2.pk, JobKind.PREDICT)}
    chunks = [job.content_ids for job in new_jobs]
    assert sorted(i for chunk in chunks for i in chunk) == sorted(Content.objects.values_list("pk", flat=True))
    assert not Canary.objects.get(pk=canary.pk).running
    # The bug: the second rollback brought v5 back. It must go on to v1, the model before v2.
    assert rollback_target() == v1
    assert model_version_rollback(rolled_back_by=admin_user, reason="v2 too") == v1
    assert _active_numbers() == [1]
    assert dict(ModelVersion.objects.values_list("number", "status")) == {
        1: "active",
        2: "retired",
        5: "retired",
        6: "candidate",
    }
    event = ModelEvent.objects.first()
    assert (event.action, event.model_version, event.previous_version, event.actor, event.reason) == (
        "rolled_back",
        v1,
        v2,
        admin_user,
        "v2 too",
    )
    assert event.created_at is not None
    # v1 was the first model: nothing earlier to go back to.
    assert rollback_target() is None
    with pytest.raises(PromotionError, match="nothing to roll back to"):
        model_version_rollback(rolled_back_by=admin_user, reason="once more")
    assert _active_numbers() == [1]


def test_rollback_skips_a_model_rolled_back_away_from_but_not_one_promoted_again_since(tags, model_dir, admin_user):
    v1 = make_active_model(tags)
    v2, v3 = _candidate(2, "rules"), _candidate(3, "majority")
    _promote(v2, admin_user)
    _promote(v1, admin_user)  # back to v1 by a promotion: the history is v1, v2, v1
    assert model_version_rollback(reason="v1 again was a mistake") == v2
    # v1 was just rolled back away from; the only thing before it is nothing.
    assert rollback_target() is None
    _promote(v1, admin_user)
    _promote(v3, admin_user)
    # v1 was rolled back away from once, but promoted again after that: it is a fair target.
    assert model_version_rollback(reason="v3 is worse") == v1
    assert _active_numbers() == [1]


def test_a_rollback_needs_a_reason_and_changes_nothing_without_one(tags, model_dir, admin_user):
    make_active_model(tags)
    v2 = _candidate(2, "rules")
    _promote(v2, admin_user)
    events = ModelEvent.objects.count()
    for reason in ("", "   "):
        with pytest.raises(PromotionError, match="give a reason"):
            model_version_rollback(rolled_back_by=admin_user, reason=reason)
    assert _active_numbers() == [2] and ModelEvent.objects.count() == events
    with pytest.raises(CommandError, match="give a reason"):
        call_command("rollback")
    call_command("rollback", "--reason", "from the shell")
    assert _active_numbers() == [1]


def test_the_rollback_button_names_the_version_it_activates(client, tags, model_dir, admin_user):
    make_active_model(tags)
    client.force_login(admin_user)
    url = reverse("predictions:model-list")
    assert "No rollback: no model was active before v1" in client.get(url).content.decode()
    _promote(_candidate(2, "rules"), admin_user)
    _promote(_candidate(3, "majority"), admin_user)
    page = client.get(url).content.decode()
    assert "Roll back to v2" in page and 'name="to" value="2"' in page
    refused = client.post(reverse("predictions:model-rollback"), {"to": "2", "reason": ""}, follow=True)
    assert "Not rolled back: give a reason" in refused.content.decode() and _active_numbers() == [3]
    # A page drawn before another change names a version the rollback would no longer activate.
    stale = client.post(reverse("predictions:model-rollback"), {"to": "1", "reason": "x"}, follow=True)
    assert "would now activate v2, not v1" in stale.content.decode() and _active_numbers() == [3]
    done = client.post(reverse("predictions:model-rollback"), {"to": "2", "reason": "v3 is off"}, follow=True)
    page = done.content.decode()
    assert "Rolled back to v2" in page and "Roll back to v1" in page and _active_numbers() == [2]
    assert "v3 is off" in page  # the audit trail on the same page


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
    sure_untouched = make_low_confidence_task(
        content=make_content(title="image segmentation with convolutional networks 0")
    )
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
    # The candidate waits for an admin: later ticks do not train it again on the same labels.
    assert auto_retrain_if_due() is None
    for _ in range(2):
        task = make_low_confidence_task()
        review_task_next(user=annotator)
        review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])
    assert "2 new gold labels since the newest training run" in auto_retrain_if_due().notes


def test_report_rates_per_tag_and_version_on_the_models_page(client, tags, model_dir, admin_user):
    from labeling.services import report_create

    version = make_active_model(tags)
    predictions_create(model_version_id=version.pk, content_ids=[make_content().pk])
    content = make_content(current_tag=tags["mlops"], current_tag_origin="model", current_model_version=version.number)
    report_create(content=content, reporter_address="1.1.1.1")
    client.force_login(admin_user)
    page = client.get(reverse("predictions:model-list")).content.decode()
    assert "Wrong-tag reports" in page
    from predictions.selectors import report_rates

    rates = report_rates()
    by_version = {row["name"]: row for row in rates["by_version"]}
    assert by_version[f"v{version.number}"]["reports"] == 1
    assert {row["name"]: row["reports"] for row in rates["by_tag"]}["mlops"] == 1


LONG = "r" * 2001
TOO_LONG = "Keep the reason to 2000 characters (this one has 2001)."


def test_an_override_reason_over_the_limit_is_named_not_taken_for_no_reason(client, tags, model_dir, admin_user):
    active = make_active_model(tags)
    worse = _candidate(2, "majority")
    client.force_login(admin_user)
    page = client.post(reverse("predictions:model-promote", args=[2]), {"override_reason": LONG}, follow=True)
    text = page.content.decode()
    assert "Not promoted. " + TOO_LONG in text and "give a reason" not in text
    assert ModelVersion.objects.get(status=ModelStatus.ACTIVE) == active and worse.events.count() == 0
    assert 'maxlength="2000"' in text  # the override field stops it in the browser


def test_a_rollback_reason_over_the_limit_is_named_not_taken_for_no_reason(client, tags, model_dir, admin_user):
    make_active_model(tags)
    _promote(_candidate(2, "rules"), admin_user)
    client.force_login(admin_user)
    page = client.post(reverse("predictions:model-rollback"), {"to": "1", "reason": LONG}, follow=True)
    text = page.content.decode()
    assert "Not rolled back. " + TOO_LONG in text and "give a reason" not in text
    assert _active_numbers() == [2]
    assert 'name="reason" maxlength="2000"' in text


def test_a_canary_stop_reason_over_the_limit_is_named_and_the_canary_runs_on(client, tags, model_dir, admin_user):
    make_active_model(tags)
    canary = canary_start(candidate=_candidate(2, "tfidf-linear"), share=0.1, started_by=admin_user)
    client.force_login(admin_user)
    page = client.post(reverse("predictions:canary-stop", args=[canary.pk]), {"reason": LONG}, follow=True)
    assert "Canary not stopped. " + TOO_LONG in page.content.decode()
    canary.refresh_from_db()
    assert canary.running
