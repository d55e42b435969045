"""The gold browser (issue 15): a reviewer changes a gold label with a note; the change is an answer like the review
queue's, with its provenance (who, when, why, version), and the split never moves."""

import pytest
from django.urls import reverse

from labeling.models import Annotation, GoldLabel, Provenance, ReportStatus, ReviewStatus, ReviewTask, Split
from labeling.services import GoldChangeRefused, gold_label_change, gold_label_set, report_create
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(tags):
    content = make_content(title="Serving models", current_tag=tags["mlops"])
    gold_label_set(content=content, tag=tags["computer-vision"], provenance=Provenance.IMPORTED)
    GoldLabel.objects.filter(content=content).update(split=Split.HOLDOUT)
    return content


def test_a_reviewer_changes_a_gold_label_with_a_note(client, labelled, reviewer, tags):
    client.force_login(reviewer)
    page = client.get(reverse("labeling:gold-detail", args=[labelled.pk])).content.decode()
    assert "Change the gold label" in page
    response = client.post(
        reverse("labeling:gold-change", args=[labelled.pk]), {"tag": "mlops", "note": "It is about serving."}
    )
    assert response.status_code == 302
    label = GoldLabel.objects.get(content=labelled)
    assert (label.tag.slug, label.provenance, label.decided_by, label.version, label.split) == (
        "mlops",
        Provenance.ANNOTATOR,
        reviewer,
        2,
        Split.HOLDOUT,
    )
    answer = Annotation.objects.get(content=labelled)
    assert (answer.annotator, answer.tag.slug, answer.note, answer.review_task) == (
        reviewer,
        "mlops",
        "It is about serving.",
        None,
    )
    labelled.refresh_from_db()
    assert labelled.current_tag.slug == "mlops" and labelled.current_tag_origin == "gold"
    page = client.get(response["Location"]).content.decode()
    assert "Gold label changed to mlops (version 2)" in page and "It is about serving." in page
    assert "gold browser" in page


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"tag": "mlops", "note": "  "}, "This field is required"),
        ({"tag": "computer-vision", "note": "again"}, "already computer-vision"),
        ({"tag": "nope", "note": "x"}, "Select a valid choice"),
        ({"tag": "mlops", "note": "x" * 1001}, "Keep the note to 1000 characters"),
    ],
)
def test_a_change_that_would_say_nothing_is_refused_and_changes_nothing(client, labelled, reviewer, data, said):
    client.force_login(reviewer)
    response = client.post(reverse("labeling:gold-change", args=[labelled.pk]), data)
    assert response.status_code == 400 and said in response.content.decode()
    label = GoldLabel.objects.get(content=labelled)
    assert (label.tag.slug, label.version) == ("computer-vision", 1) and not Annotation.objects.exists()


def test_the_service_refuses_an_item_without_gold_and_a_blank_note(tags, reviewer):
    content = make_content()
    with pytest.raises(GoldChangeRefused, match="no gold label"):
        gold_label_change(content_id=content.pk, tag=tags["mlops"], user=reviewer, note="why")
    with pytest.raises(GoldChangeRefused, match="Say why"):
        gold_label_change(content_id=content.pk, tag=tags["mlops"], user=reviewer, note=" ")


def test_annotators_browse_but_only_reviewers_and_admins_change(client, labelled, annotator, admin_user):
    url = reverse("labeling:gold-change", args=[labelled.pk])
    assert client.post(url, {"tag": "mlops", "note": "x"}).status_code == 302  # to log in
    client.force_login(annotator)
    page = client.get(reverse("labeling:gold-detail", args=[labelled.pk])).content.decode()
    assert "Change the gold label" not in page
    assert client.post(url, {"tag": "mlops", "note": "x"}).status_code == 403
    client.force_login(admin_user)
    assert client.post(url, {"tag": "mlops", "note": "x"}).status_code == 302
    assert GoldLabel.objects.get(content=labelled).tag.slug == "mlops"


def test_an_item_without_gold_has_no_gold_page(client, tags, reviewer):
    client.force_login(reviewer)
    content = make_content()
    assert client.get(reverse("labeling:gold-detail", args=[content.pk])).status_code == 404
    assert client.post(reverse("labeling:gold-change", args=[999999]), {"tag": "mlops", "note": "x"}).status_code == 404


def test_a_change_settles_the_items_open_tasks_and_reports(labelled, reviewer, tags):
    report, _ = report_create(
        content=labelled, reporter_address="10.0.0.1", suggested_tag=tags["natural-language-processing"]
    )
    task = make_low_confidence_task(content=labelled)
    other_item_task = make_low_confidence_task()
    gold_label_change(content_id=labelled.pk, tag=tags["natural-language-processing"], user=reviewer, note="NLP paper")
    assert not ReviewTask.objects.filter(content=labelled, status=ReviewStatus.OPEN).exists()
    task.refresh_from_db()
    assert (task.status, task.resolved_by) == (ReviewStatus.DONE, reviewer)
    report.refresh_from_db()
    # The tag shown was computer-vision (the gold label before); the change says it was wrong.
    assert report.status == ReportStatus.ACCEPTED and "NLP paper" in report.resolution
    other_item_task.refresh_from_db()
    assert other_item_task.status == ReviewStatus.OPEN
