"""The review queue page speaks the annotators' words."""

import pytest
from django.urls import reverse

from labeling.services import ReviewConflict, report_create, review_task_answer
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db


def test_counts_name_each_reason_by_its_label_and_the_source_box_is_labelled(client, tags, annotator):
    make_low_confidence_task()
    report_create(content=make_content(), reporter_address="1.1.1.1")
    client.force_login(annotator)
    page = client.get(reverse("labeling:review-queue")).content.decode()
    assert "<strong>1</strong> low confidence" in page and "<strong>1</strong> wrong-tag report" in page
    assert "low_confidence" not in page.split('class="counts"')[1]
    assert 'aria-label="source"' in page


def test_a_held_task_outside_the_chosen_filter_goes_back_and_the_filter_is_honoured(tags, annotator, second_annotator):
    from labeling.services import review_task_next

    report, _ = report_create(content=make_content(), reporter_address="1.1.1.1")
    low = make_low_confidence_task()
    held = review_task_next(user=annotator)
    assert held.reason == "report"  # reports come first
    picked = review_task_next(user=annotator, reason="low_confidence")
    assert picked.pk == low.pk
    # The report task is free again for someone else; the annotator holds one task only.
    assert review_task_next(user=second_annotator).pk == held.pk
    assert review_task_next(user=annotator, reason="low_confidence").pk == low.pk


def test_nobody_is_given_their_own_report_to_settle(tags, annotator, second_annotator):
    from labeling.services import review_task_next

    content = make_content(current_tag=tags["mlops"])
    report_create(content=content, reporter=annotator, reporter_address="1.1.1.1")
    assert review_task_next(user=annotator) is None
    task = review_task_next(user=second_annotator)
    assert task.reason == "report" and task.content_id == content.pk


def test_a_report_task_held_before_its_holder_reported_the_item_goes_back(tags, annotator, second_annotator):
    from labeling.services import review_task_next

    content = make_content(current_tag=tags["mlops"])
    report_create(content=content, reporter_address="1.1.1.1")
    held = review_task_next(user=annotator)
    assert held.content_id == content.pk
    report_create(content=content, reporter=annotator, reporter_address="1.1.1.1", comment="me too")
    with pytest.raises(ReviewConflict, match="You reported this item yourself"):
        review_task_answer(task_id=held.pk, user=annotator, tag=tags["other"])
    assert review_task_next(user=annotator) is None  # no longer theirs to settle
    assert review_task_next(user=second_annotator).pk == held.pk


def test_the_page_says_how_many_items_are_free_for_this_annotator(client, tags, annotator, second_annotator):
    from labeling.services import review_task_next

    make_low_confidence_task()
    make_low_confidence_task()
    report_create(content=make_content(current_tag=tags["mlops"]), reporter=annotator, reporter_address="1.1.1.1")
    review_task_next(user=second_annotator, reason="low_confidence")  # holds one of the two
    client.force_login(annotator)
    page = client.get(reverse("labeling:review-queue")).content.decode()
    # 3 open: the report is the annotator's own, one low-confidence task is held by the other annotator.
    assert "3 open items; 1 for you now" in page
    assert "disabled" not in page.split("Start reviewing")[0].rsplit("<button", 1)[1]


def test_an_annotator_is_neither_counted_nor_offered_the_disagreements_reviewers_decide(
    client, tags, annotator, reviewer
):
    from labeling.services import PredictionSnapshot, review_task_open

    make_low_confidence_task()
    review_task_open(
        content=make_content(),
        reason="disagreement",
        snapshot=PredictionSnapshot(1, "mlops", {"mlops": 0.9, "other": 0.1}),
    )
    pages = {}
    for user in (annotator, reviewer):
        client.force_login(user)
        pages[user] = client.get(reverse("labeling:review-queue")).content.decode()
    assert "1 open item;" not in pages[annotator] and "1 open item." in pages[annotator]
    assert "disagreement" not in pages[annotator]
    assert "2 open items." in pages[reviewer] and "<strong>1</strong> disagreement" in pages[reviewer]
    assert 'value="disagreement"' in pages[reviewer]


@pytest.mark.parametrize("reason", ["no-such-reason", "disagreement"])
def test_a_filter_that_cannot_apply_says_so_instead_of_showing_the_whole_queue_as_if_filtered(
    client, tags, annotator, reason
):
    # "disagreement" is for reviewers: from an annotator's address it is as unknown as a typo.
    make_low_confidence_task()
    client.force_login(annotator)
    page = client.get(reverse("labeling:review-queue"), {"reason": reason}).content.decode()
    assert "Filter not applied" in page and reason in page
    assert "1 open item" in page


def test_a_task_whose_item_a_newer_version_re_predicted_says_whose_numbers_it_shows(client, tags, annotator):
    from labeling.models import TagOrigin
    from labeling.services import PredictionSnapshot, review_task_open

    content = make_content(current_tag=tags["mlops"], current_tag_origin=TagOrigin.MODEL, current_model_version=1)
    snapshot = PredictionSnapshot(1, "mlops", {"mlops": 0.9, "other": 0.1})
    task = review_task_open(content=content, reason="report", snapshot=snapshot)
    client.force_login(annotator)
    url = reverse("labeling:review-task", args=[task.pk])
    assert "data-newer-version" not in client.get(url).content.decode()
    content.current_model_version = 2
    content.save(update_fields=["current_model_version"])
    page = client.get(url).content.decode()
    assert "model v1's, from when the item was queued; model v2 has re-predicted it since" in page


def test_an_audit_page_carries_no_model_version_to_answer_with(client, tags, annotator):
    from labeling.services import PredictionSnapshot, review_task_open

    audit = review_task_open(
        content=make_content(), reason="audit_sample", snapshot=PredictionSnapshot(1, "mlops", {"mlops": 0.9})
    )
    plain = make_low_confidence_task()
    client.force_login(annotator)
    assert 'name="shown_version"' not in client.get(reverse("labeling:review-task", args=[audit.pk])).content.decode()
    page = client.get(reverse("labeling:review-task", args=[plain.pk])).content.decode()
    assert 'name="shown_version" value="1"' in page
