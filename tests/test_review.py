"""The review queue: leases, answers that become gold labels, reports, conflicts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from labeling.models import (
    Annotation,
    GoldLabel,
    Provenance,
    ReportStatus,
    ReviewStatus,
    ReviewTask,
    Split,
    WrongTagReport,
)
from labeling.services import ReviewConflict, report_create, review_task_answer, review_task_next
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db


def test_queue_orders_reports_first_then_least_confident(tags, annotator):
    sure = make_low_confidence_task(confidence=0.55)
    unsure = make_low_confidence_task(confidence=0.30)
    report, _ = report_create(content=make_content(), reporter_address="1.2.3.4")
    assert review_task_next(user=annotator).pk == report.review_task_id
    review_task_answer(task_id=report.review_task_id, user=annotator, tag=tags["mlops"])
    assert review_task_next(user=annotator).pk == unsure.pk
    review_task_answer(task_id=unsure.pk, user=annotator, tag=tags["mlops"])
    assert review_task_next(user=annotator).pk == sure.pk


def test_a_newer_prediction_re_ranks_open_tasks_and_a_held_one_keeps_its_claim(tags, annotator):
    from labeling.services import PredictionSnapshot, review_tasks_open_for_low_confidence

    was_unsure = make_low_confidence_task(confidence=0.30, predicted="mlops")
    was_less_unsure = make_low_confidence_task(confidence=0.50, predicted="mlops")
    held = make_low_confidence_task(confidence=0.45, predicted="mlops")
    ReviewTask.objects.filter(pk=held.pk).update(
        assignee=annotator, lease_expires_at=timezone.now() + timedelta(minutes=5)
    )
    newer = {
        was_unsure.content_id: PredictionSnapshot(2, "other", {"other": 0.55, "mlops": 0.45}, 0.55),
        was_less_unsure.content_id: PredictionSnapshot(2, "mlops", {"mlops": 0.35, "other": 0.65 - 0.35}, 0.35),
        held.content_id: PredictionSnapshot(2, "other", {"other": 0.4}, 0.4),
    }
    assert review_tasks_open_for_low_confidence(items=list(newer.items())) == 0  # no new task
    tasks = {task.pk: task for task in ReviewTask.objects.all()}
    assert (tasks[was_less_unsure.pk].model_version, tasks[was_less_unsure.pk].priority) == (2, pytest.approx(2.65))
    assert (tasks[was_unsure.pk].predicted_tag, tasks[was_unsure.pk].priority) == ("other", pytest.approx(2.45))
    # The person holding a task keeps it, and sees what the newer model says.
    assert (tasks[held.pk].model_version, tasks[held.pk].predicted_tag) == (2, "other")
    assert tasks[held.pk].assignee == annotator and tasks[held.pk].lease_expires_at > timezone.now()
    ReviewTask.objects.filter(pk=held.pk).update(status=ReviewStatus.CANCELLED)
    assert review_task_next(user=annotator).pk == was_less_unsure.pk


def test_two_annotators_never_get_the_same_item(tags, annotator, second_annotator):
    make_low_confidence_task()
    make_low_confidence_task()
    first = review_task_next(user=annotator)
    second = review_task_next(user=second_annotator)
    assert first.pk != second.pk
    assert review_task_next(user=annotator).pk == first.pk  # asking again resumes the held item


def test_an_answer_becomes_the_gold_label_in_the_training_split(tags, annotator):
    task = make_low_confidence_task(predicted="mlops")
    review_task_next(user=annotator)
    label = review_task_answer(task_id=task.pk, user=annotator, tag=tags["computer-vision"])
    assert (label.tag.slug, label.provenance, label.split, label.decided_by) == (
        "computer-vision",
        Provenance.ANNOTATOR,
        Split.TRAIN,
        annotator,
    )
    task.refresh_from_db()
    assert task.status == ReviewStatus.DONE and task.resolved_by == annotator
    assert Annotation.objects.filter(review_task=task, tag__slug="computer-vision").count() == 1
    assert task.content.__class__.objects.get(pk=task.content_id).current_tag_origin == "gold"


def test_an_answer_on_a_lease_taken_by_someone_else_is_refused_and_not_counted(tags, annotator, second_annotator):
    task = make_low_confidence_task()
    review_task_next(user=annotator)
    ReviewTask.objects.filter(pk=task.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert review_task_next(user=second_annotator).pk == task.pk
    with pytest.raises(ReviewConflict, match="Another annotator"):
        review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])
    review_task_answer(task_id=task.pk, user=second_annotator, tag=tags["other"])
    with pytest.raises(ReviewConflict, match="already answered"):
        review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])
    assert Annotation.objects.filter(content=task.content).count() == 1
    assert GoldLabel.objects.get(content=task.content).tag.slug == "other"


def test_acting_on_an_item_someone_else_holds_says_so_without_blaming_a_lease(tags, annotator, second_annotator):
    from labeling.services import review_task_skip

    task = make_low_confidence_task()
    review_task_next(user=second_annotator)
    with pytest.raises(ReviewConflict) as answering:
        review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])
    with pytest.raises(ReviewConflict) as skipping:
        review_task_skip(task_id=task.pk, user=annotator)
    assert str(answering.value) == "Another annotator is working on this item; your answer was not recorded."
    assert str(skipping.value) == "Another annotator is working on this item; it was not skipped."
    assert ReviewTask.objects.get(pk=task.pk).assignee == second_annotator


def test_a_note_over_the_limit_is_refused_with_its_own_message(client, tags, annotator):
    task = make_low_confidence_task()
    content = task.content
    report_create(content=content, reporter_address="10.0.0.9")
    client.force_login(annotator)
    response = client.post(
        reverse("labeling:review-answer", args=[task.pk]), {"tag": "mlops", "note": "x" * 1001}, follow=True
    )
    page = response.content.decode()
    assert "Not saved. Keep the note for the reporter to 1000 characters (this one has 1001)." in page
    assert "Pick one of the tags." not in page
    assert not GoldLabel.objects.filter(content=content).exists()


def test_accepted_report_changes_the_gold_label_with_provenance_report(tags, annotator):
    content = make_content()
    GoldLabel.objects.create(content=content, tag=tags["mlops"], provenance=Provenance.IMPORTED, split=Split.TRAIN)
    content.current_tag = tags["mlops"]
    content.save()
    report, created = report_create(
        content=content,
        reporter_address="10.0.0.1",
        suggested_tag=tags["natural-language-processing"],
        comment="it is NLP",
    )
    again, created_again = report_create(content=content, reporter_address="10.0.0.1", comment="really")
    assert created and not created_again and again.pk == report.pk
    assert WrongTagReport.objects.count() == 1 and ReviewTask.objects.filter(reason="report").count() == 1
    review_task_next(user=annotator)
    label = review_task_answer(task_id=report.review_task_id, user=annotator, tag=tags["natural-language-processing"])
    report.refresh_from_db()
    assert (label.tag.slug, label.provenance, label.version, label.split) == (
        "natural-language-processing",
        Provenance.REPORT,
        2,
        Split.TRAIN,
    )
    assert report.status == ReportStatus.ACCEPTED and report.resolved_by == annotator


def test_rejected_report_keeps_the_tag_and_records_who(tags, annotator):
    content = make_content(current_tag=tags["mlops"])
    report, _ = report_create(content=content, reporter_address="10.0.0.2")
    review_task_next(user=annotator)
    review_task_answer(task_id=report.review_task_id, user=annotator, tag=tags["mlops"])
    report.refresh_from_db()
    assert report.status == ReportStatus.REJECTED and report.resolved_by == annotator
    assert GoldLabel.objects.get(content=content).provenance == Provenance.ANNOTATOR


def test_review_pages_with_keys_and_buttons(client, tags, annotator):
    task = make_low_confidence_task(predicted="mlops", confidence=0.41)
    other = make_low_confidence_task(confidence=0.5)
    client.force_login(annotator)
    response = client.post(reverse("labeling:review-start"))
    assert response.status_code == 302 and response.url == reverse("labeling:review-task", args=[task.pk])
    page = client.get(response.url).content.decode()
    assert task.content.title in page
    assert 'data-key="Enter"' in page and 'value="mlops"' in page
    for number, slug in enumerate(tags, start=1):
        assert f'name="tag" value="{slug}" data-key="{number}"' in page
    assert "0.41" in page
    response = client.post(reverse("labeling:review-answer", args=[task.pk]), {"tag": "computer-vision"})
    assert response.url == reverse("labeling:review-task", args=[other.pk])
    assert GoldLabel.objects.get(content=task.content).tag.slug == "computer-vision"


def test_skip_gives_the_item_back_and_moves_on(client, tags, annotator, second_annotator):
    first = make_low_confidence_task(confidence=0.3)
    second = make_low_confidence_task(confidence=0.5)
    client.force_login(annotator)
    client.post(reverse("labeling:review-start"))
    response = client.post(reverse("labeling:review-skip", args=[first.pk]))
    assert response.url == reverse("labeling:review-task", args=[second.pk])
    assert review_task_next(user=second_annotator).pk == first.pk


def test_html_escapes_content(client, tags, annotator):
    task = make_low_confidence_task(content=make_content(title="<script>alert(1)</script>"))
    client.force_login(annotator)
    page = client.get(reverse("labeling:review-task", args=[task.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_undo_restores_the_label_the_report_and_the_task_exactly(tags, annotator):
    from labeling.services import review_answer_undo

    content = make_content(current_tag=tags["mlops"], current_tag_origin="gold")
    GoldLabel.objects.create(content=content, tag=tags["mlops"], provenance=Provenance.IMPORTED, split=Split.HOLDOUT)
    report, _ = report_create(content=content, reporter_address="9.9.9.9", suggested_tag=tags["other"])
    task = review_task_next(user=annotator)
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["other"])
    restored = review_answer_undo(user=annotator)
    assert restored.pk == task.pk and restored.status == ReviewStatus.OPEN and restored.assignee == annotator
    label = GoldLabel.objects.get(content=content)
    assert (label.tag.slug, label.provenance, label.version, label.split) == (
        "mlops",
        Provenance.IMPORTED,
        1,
        Split.HOLDOUT,
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN and report.resolution == ""
    content.refresh_from_db()
    assert content.current_tag.slug == "mlops"
    with pytest.raises(ReviewConflict, match="Nothing to undo"):
        review_answer_undo(user=annotator)


def test_undo_is_refused_after_the_window_or_after_someone_else_answered(tags, annotator, second_annotator, settings):
    from labeling.services import review_answer_undo

    task = make_low_confidence_task()
    review_task_next(user=annotator)
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])
    Annotation.objects.update(created_at=timezone.now() - timedelta(seconds=settings.TAGLOOP_UNDO_SECONDS + 1))
    with pytest.raises(ReviewConflict, match="Nothing to undo"):
        review_answer_undo(user=annotator)
    other = make_low_confidence_task()
    review_task_next(user=annotator)
    review_task_answer(task_id=other.pk, user=annotator, tag=tags["mlops"])
    Annotation.objects.create(content=other.content, annotator=second_annotator, tag=tags["other"])
    with pytest.raises(ReviewConflict, match="Someone answered"):
        review_answer_undo(user=annotator)


def test_queue_filters_by_reason_tag_and_source(client, tags, annotator):
    cv = make_low_confidence_task(predicted="computer-vision", content=make_content(source="arxiv"))
    make_low_confidence_task(predicted="mlops", content=make_content(source="blog"))
    report_create(content=make_content(source="arxiv"), reporter_address="1.1.1.1")
    client.force_login(annotator)
    page = client.get(reverse("labeling:review-queue"), {"reason": "low_confidence", "source": "arxiv"})
    assert "1 open item matching" in page.content.decode()
    response = client.post(reverse("labeling:review-start"), {"reason": "low_confidence", "tag": "computer-vision"})
    assert response.url == reverse("labeling:review-task", args=[cv.pk])


def test_htmx_answer_returns_the_next_item_fragment_and_its_address(client, tags, annotator):
    first = make_low_confidence_task(confidence=0.3)
    second = make_low_confidence_task(confidence=0.4)
    client.force_login(annotator)
    client.post(reverse("labeling:review-start"))
    response = client.post(reverse("labeling:review-answer", args=[first.pk]), {"tag": "mlops"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Push-Url"] == reverse("labeling:review-task", args=[second.pk])
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="review"') and "<html" not in body
    assert "Saved: mlops" in body
    response = client.post(
        reverse("labeling:review-answer", args=[second.pk]), {"tag": "mlops"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("labeling:review-queue")


def test_undo_is_refused_when_the_reporter_reported_again_after_the_answer(tags, annotator):
    from labeling.services import review_answer_undo

    content = make_content(current_tag=tags["mlops"])
    first, _ = report_create(content=content, reporter_address="9.9.9.9")
    task = review_task_next(user=annotator)
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])  # rejected: the tag stays
    again, _ = report_create(content=content, reporter_address="9.9.9.9", comment="still wrong")
    assert again.pk != first.pk and again.status == ReportStatus.OPEN
    # Reopening the first report (and its task) would make two open ones: refused, nothing changes.
    with pytest.raises(ReviewConflict, match="arrived after your answer"):
        review_answer_undo(user=annotator)
    first.refresh_from_db()
    assert first.status != ReportStatus.OPEN
    assert ReviewTask.objects.filter(content=content, status=ReviewStatus.OPEN).count() == 1
