"""Every out-of-distribution flag says why: which check fired and its evidence, on the review screen and the item page."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from labeling.models import ReviewReason, ReviewTask
from labeling.services import review_task_next
from predictions.services import predictions_create
from tests.factories import make_active_model, make_content

pytestmark = pytest.mark.django_db

COMPLAINT = (
    "Charged twice for my subscription",
    "My credit card was billed 14.99 two times this month. Please reverse the duplicate charge and refund me!",
)


@pytest.fixture
def flagged(tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    content = make_content(title=COMPLAINT[0], description=COMPLAINT[1])
    predictions_create(model_version_id=version.pk, content_ids=[content.pk])
    content.refresh_from_db()
    assert content.is_out_of_distribution
    return content


def test_the_reasons_are_stored_with_the_flag(flagged):
    # The synthetic training set is too small for the topic check (tests/ml covers its reason);
    # the vocabulary checks say what they measured.
    assert flagged.ood_reasons and all(" > " in reason for reason in flagged.ood_reasons.values())


def test_the_item_page_says_which_check_fired_and_its_evidence(client, flagged):
    page = client.get(reverse("labeling:content-detail", args=[flagged.pk])).content.decode()
    assert "Flagged as unlike the model's training data" in page
    assert "few known words" in page or "unusual words" in page
    for reason in flagged.ood_reasons.values():
        assert escape(reason) in page


def test_the_review_screen_says_why(client, annotator, flagged):
    client.force_login(annotator)
    task = review_task_next(user=annotator)
    assert task.content_id == flagged.pk and task.reason == ReviewReason.OUT_OF_DISTRIBUTION
    page = client.get(reverse("labeling:review-task", args=[task.pk])).content.decode()
    assert "data-ood-reasons" in page
    for reason in flagged.ood_reasons.values():
        assert escape(reason) in page


def test_an_item_that_passes_shows_no_reasons(client, tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    normal = make_content(title="object detection in video frames 9", description="A note on object detection.")
    predictions_create(model_version_id=version.pk, content_ids=[normal.pk])
    page = client.get(reverse("labeling:content-detail", args=[normal.pk])).content.decode()
    assert "data-ood-reasons" not in page
    assert not ReviewTask.objects.filter(content=normal, reason=ReviewReason.OUT_OF_DISTRIBUTION).exists()
