"""The review queue page speaks the annotators' words."""
import pytest
from django.urls import reverse

from labeling.services import report_create
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
