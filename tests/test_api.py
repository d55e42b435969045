"""The HTTP API: online predictions and wrong-tag reports."""
import pytest
from django.urls import reverse

from labeling.models import ReviewTask, WrongTagReport
from tests.factories import make_active_model, make_content

pytestmark = pytest.mark.django_db


def test_predict_answers_tag_probabilities_confidence_version_and_review_flag(client, tags, model_dir):
    version = make_active_model(tags)
    response = client.post(
        reverse("api-predict"),
        {"title": "Semantic segmentation of images", "description": "pixel classification"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["tag"] == "computer-vision"
    assert set(body["probabilities"]) == set(tags)
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-4
    assert body["confidence"] == max(body["probabilities"].values())
    assert body["model_version"] == version.number
    assert body["needs_review"] == (body["confidence"] < version.review_threshold)


@pytest.mark.parametrize(
    "payload,field",
    [({"description": "x"}, "title"), ({"title": ""}, "title"), ({"title": "ok", "description": 5 * "x" * 5000}, "description")],
)
def test_predict_rejects_a_bad_body_naming_the_field(client, payload, field):
    response = client.post(reverse("api-predict"), payload, content_type="application/json")
    assert response.status_code == 400 and field in response.json()


def test_predict_without_an_active_model_says_so(client, tags):
    response = client.post(reverse("api-predict"), {"title": "x"}, content_type="application/json")
    assert response.status_code == 503 and "no model is active" in response.json()["detail"]


def test_anonymous_report_opens_a_review_task_and_repeats_are_merged(client, tags):
    content = make_content(current_tag=tags["mlops"])
    url = reverse("api-content-reports", args=[content.pk])
    first = client.post(url, {"suggested_tag": "other", "comment": "wrong"}, content_type="application/json")
    again = client.post(url, {"comment": "still wrong"}, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["shown_tag"] == "mlops" and again.json()["suggested_tag"] == "other"
    assert WrongTagReport.objects.get().comment == "still wrong"
    assert ReviewTask.objects.filter(content=content, reason="report").count() == 1


def test_report_validation_names_the_field_and_unknown_content_is_404(client, tags):
    content = make_content()
    response = client.post(reverse("api-content-reports", args=[content.pk]), {"suggested_tag": "robotics"},
                           content_type="application/json")
    assert response.status_code == 400 and "suggested_tag" in response.json()
    assert client.post(reverse("api-content-reports", args=[999999]), {}, content_type="application/json").status_code == 404
