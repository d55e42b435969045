"""My recent answers, each changeable (issue 15's history, like Prodigy's sidebar): the service and its refusals."""

import pytest
from django.urls import reverse

from labeling.models import Annotation, GoldLabel, Provenance, ReportStatus, WrongTagReport
from labeling.services import ReviewConflict, report_create, review_answer_undo, review_task_answer
from labeling.services.history import review_answer_change
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db


def test_an_earlier_answer_changes_and_the_gold_label_follows(tags, annotator):
    first, second = make_low_confidence_task(), make_low_confidence_task()
    review_task_answer(task_id=first.pk, user=annotator, tag=tags["mlops"])
    review_task_answer(task_id=second.pk, user=annotator, tag=tags["other"])
    old = Annotation.objects.get(review_task=first)
    new = review_answer_change(annotation_id=old.pk, user=annotator, tag=tags["computer-vision"])
    label = GoldLabel.objects.get(content=first.content)
    assert (label.tag.slug, label.version, label.decided_by) == ("computer-vision", 2, annotator)
    old.refresh_from_db()
    assert old.undone_at is not None and new.review_task_id == first.pk and new.tag.slug == "computer-vision"
    first.content.refresh_from_db()
    assert first.content.current_tag.slug == "computer-vision"
    # Undo now takes back the newest answer (the other item), then this change, back to before the first answer.
    review_answer_undo(user=annotator)
    review_answer_undo(user=annotator)
    assert not GoldLabel.objects.filter(content=first.content).exists()


def test_a_report_settled_by_the_answer_follows_the_change_and_keeps_the_note(tags, annotator):
    content = make_content(current_tag=tags["mlops"])
    report, _ = report_create(content=content, reporter_address="203.0.113.9", suggested_tag=tags["computer-vision"])
    review_task_answer(task_id=report.review_task_id, user=annotator, tag=tags["mlops"], note="Looks right.")
    report.refresh_from_db()
    assert report.status == ReportStatus.REJECTED
    answer = Annotation.objects.get()
    review_answer_change(annotation_id=answer.pk, user=annotator, tag=tags["computer-vision"])
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    assert report.resolution == "Corrected to computer-vision. Note from the reviewer: Looks right."
    assert GoldLabel.objects.get(content=content).provenance == Provenance.REPORT
    assert WrongTagReport.objects.count() == 1


def test_refused_when_someone_answered_since_or_for_another_annotators_answer(tags, annotator, reviewer):
    task = make_low_confidence_task()
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])
    mine = Annotation.objects.get()
    with pytest.raises(Annotation.DoesNotExist):
        review_answer_change(annotation_id=mine.pk, user=reviewer, tag=tags["other"])
    requeued = make_low_confidence_task(content=task.content)
    review_task_answer(task_id=requeued.pk, user=reviewer, tag=tags["other"])
    with pytest.raises(ReviewConflict, match="after you"):
        review_answer_change(annotation_id=mine.pk, user=annotator, tag=tags["computer-vision"])
    assert GoldLabel.objects.get(content=task.content).tag.slug == "other"


def test_the_same_tag_changes_nothing_and_a_changed_answer_cannot_change_again(tags, annotator):
    task = make_low_confidence_task()
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"])
    answer = Annotation.objects.get()
    assert review_answer_change(annotation_id=answer.pk, user=annotator, tag=tags["mlops"]) == answer
    review_answer_change(annotation_id=answer.pk, user=annotator, tag=tags["other"])
    with pytest.raises(ReviewConflict, match="changed already"):
        review_answer_change(annotation_id=answer.pk, user=annotator, tag=tags["computer-vision"])


def test_the_history_page_lists_my_answers_and_changes_one_with_a_click(client, tags, annotator):
    task = make_low_confidence_task(content=make_content(title="Serving on Kubernetes"))
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["computer-vision"])
    client.force_login(annotator)
    page = client.get(reverse("labeling:review-history")).content.decode()
    assert "Serving on Kubernetes" in page
    answer = Annotation.objects.get()
    response = client.post(
        reverse("labeling:review-answer-change", args=[answer.pk]), {"tag": "mlops", "next": "/review/history/"}
    )
    assert response.status_code == 302 and response["Location"] == "/review/history/"
    assert GoldLabel.objects.get(content=task.content).tag.slug == "mlops"
    assert "is now mlops" in client.get("/review/history/").content.decode()
