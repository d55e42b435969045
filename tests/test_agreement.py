"""Audit samples go to several annotators blind; unanimous answers decide, disagreements go to a reviewer."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from labeling.models import GoldLabel, ReviewStatus, ReviewTask
from labeling.services import (
    PredictionSnapshot,
    ReviewConflict,
    review_answer_undo,
    review_task_answer,
    review_task_next,
    review_tasks_open_for_audit,
)
from tests.factories import make_content

pytestmark = pytest.mark.django_db


@pytest.fixture
def audit_task(tags, settings):
    settings.TAGLOOP_AUDIT_ANNOTATORS = 2
    content = make_content()
    snapshot = PredictionSnapshot(1, "mlops", {"mlops": 0.97, "other": 0.03}, 0.97)
    review_tasks_open_for_audit(items=[(content.pk, snapshot)])
    return ReviewTask.objects.get(content=content, reason="audit_sample")


def test_unanimous_blind_answers_decide_the_gold_label(audit_task, annotator, second_annotator, tags):
    assert review_task_next(user=annotator).pk == audit_task.pk
    assert review_task_answer(task_id=audit_task.pk, user=annotator, tag=tags["mlops"]) is None
    audit_task.refresh_from_db()
    assert audit_task.status == ReviewStatus.OPEN and audit_task.assignee is None
    assert not GoldLabel.objects.exists()
    assert review_task_next(user=annotator) is None  # never the same item twice
    with pytest.raises(ReviewConflict, match="already answered"):
        review_task_answer(task_id=audit_task.pk, user=annotator, tag=tags["other"])
    assert review_task_next(user=second_annotator).pk == audit_task.pk
    label = review_task_answer(task_id=audit_task.pk, user=second_annotator, tag=tags["mlops"])
    assert label.tag.slug == "mlops" and label.split in ("train", "holdout")
    audit_task.refresh_from_db()
    assert audit_task.status == ReviewStatus.DONE


def test_disagreement_goes_to_a_reviewer_who_sees_both_answers(
    client, audit_task, annotator, second_annotator, reviewer, tags
):
    review_task_next(user=annotator)
    review_task_answer(task_id=audit_task.pk, user=annotator, tag=tags["mlops"])
    review_task_next(user=second_annotator)
    assert review_task_answer(task_id=audit_task.pk, user=second_annotator, tag=tags["other"]) is None
    dispute = ReviewTask.objects.get(reason="disagreement", status=ReviewStatus.OPEN)
    assert not GoldLabel.objects.exists()
    assert review_task_next(user=annotator) is None  # annotators do not adjudicate
    assert review_task_next(user=reviewer).pk == dispute.pk
    client.force_login(reviewer)
    page = client.get(reverse("labeling:review-task", args=[dispute.pk])).content.decode()
    assert "The annotators disagree" in page and "ann</strong> said <strong>mlops" in page
    label = review_task_answer(task_id=dispute.pk, user=reviewer, tag=tags["other"])
    assert (label.tag.slug, label.decided_by) == ("other", reviewer)


def test_an_annotator_can_neither_open_answer_nor_skip_a_disagreement(
    client, audit_task, annotator, second_annotator, tags
):
    review_task_next(user=annotator)
    review_task_answer(task_id=audit_task.pk, user=annotator, tag=tags["mlops"])
    review_task_next(user=second_annotator)
    review_task_answer(task_id=audit_task.pk, user=second_annotator, tag=tags["other"])
    dispute = ReviewTask.objects.get(reason="disagreement", status=ReviewStatus.OPEN)
    client.force_login(annotator)
    # Task ids are sequential: guessing one must not let an annotator decide it.
    assert client.get(reverse("labeling:review-task", args=[dispute.pk])).status_code == 403
    assert client.post(reverse("labeling:review-answer", args=[dispute.pk]), {"tag": "other"}).status_code == 403
    assert client.post(reverse("labeling:review-skip", args=[dispute.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        review_task_answer(task_id=dispute.pk, user=second_annotator, tag=tags["mlops"])
    dispute.refresh_from_db()
    assert dispute.status == ReviewStatus.OPEN and not GoldLabel.objects.exists()


def test_undoing_the_deciding_answer_withdraws_the_disagreement(audit_task, annotator, second_annotator, tags):
    review_task_next(user=annotator)
    review_task_answer(task_id=audit_task.pk, user=annotator, tag=tags["mlops"])
    review_task_next(user=second_annotator)
    review_task_answer(task_id=audit_task.pk, user=second_annotator, tag=tags["other"])
    review_answer_undo(user=second_annotator)
    assert not ReviewTask.objects.filter(reason="disagreement", status=ReviewStatus.OPEN).exists()
    audit_task.refresh_from_db()
    assert audit_task.status == ReviewStatus.OPEN and audit_task.assignee == second_annotator


def test_audit_items_are_shown_blind(client, audit_task, annotator):
    client.force_login(annotator)
    page = client.get(reverse("labeling:review-task", args=[audit_task.pk])).content.decode()
    assert "Audit sample" in page and "0.97" not in page and "Confirm mlops" not in page


def test_quality_page_shows_kappa_alpha_and_gold_agreement(
    client, audit_task, annotator, second_annotator, reviewer, tags
):
    review_task_next(user=annotator)
    review_task_answer(task_id=audit_task.pk, user=annotator, tag=tags["mlops"])
    review_task_next(user=second_annotator)
    review_task_answer(task_id=audit_task.pk, user=second_annotator, tag=tags["mlops"])
    client.force_login(annotator)
    assert client.get(reverse("labeling:quality")).status_code == 403
    client.force_login(reviewer)
    page = client.get(reverse("labeling:quality")).content.decode()
    assert "ann &amp; ann2" in page and "Krippendorff" in page
    assert "100% <small>of 1</small>" in page  # ann agrees with the gold that ann2 decided


def test_the_quality_report_is_reused_until_an_answer_changes(
    audit_task, annotator, second_annotator, tags, django_assert_max_num_queries
):
    from labeling.quality import agreement_report
    from labeling.services.undo import review_answer_undo

    review_task_next(user=annotator)
    review_task_answer(task_id=audit_task.pk, user=annotator, tag=tags["mlops"])
    first = agreement_report()
    with django_assert_max_num_queries(2):  # only the check that nothing changed
        assert agreement_report() == first
    review_task_next(user=second_annotator)
    review_task_answer(task_id=audit_task.pk, user=second_annotator, tag=tags["other"])
    assert agreement_report()["items_with_several_answers"] == 1
    review_answer_undo(user=second_annotator)
    assert agreement_report()["items_with_several_answers"] == 0


def test_predictions_open_audit_samples_instead_of_low_confidence_tasks(tags, model_dir, settings):
    from predictions.services import predictions_create
    from tests.factories import make_active_model

    version = make_active_model(tags)
    settings.TAGLOOP_AUDIT_SHARE = 1.0
    content = make_content(title="something vague", description="")
    predictions_create(model_version_id=version.pk, content_ids=[content.pk])
    reasons = list(ReviewTask.objects.filter(content=content).values_list("reason", "required_answers"))
    assert reasons == [("audit_sample", settings.TAGLOOP_AUDIT_ANNOTATORS)]
