"""The HTTP API: online predictions and wrong-tag reports."""

import pytest
from django.urls import reverse

from labeling.models import ReviewTask, WrongTagReport
from tests.factories import lose_artifact, make_active_model, make_content

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
    [
        ({"description": "x"}, "title"),
        ({"title": ""}, "title"),
        ({"title": "ok", "description": 5 * "x" * 5000}, "description"),
        ({"title": "ok", "content_id": True}, "content_id"),
    ],
)
def test_predict_rejects_a_bad_body_naming_the_field(client, payload, field):
    response = client.post(reverse("api-predict"), payload, content_type="application/json")
    assert response.status_code == 400 and field in response.json()["errors"]


def test_predict_refuses_a_content_id_that_is_not_a_whole_number(client, tags):
    item = make_content()
    # The database would read 57.5 as item 57: a client's bug would get someone else's answer.
    for loose in (item.pk + 0.5, f"{item.pk}.5"):
        response = client.post(
            reverse("api-predict"), {"title": "ok", "content_id": loose}, content_type="application/json"
        )
        assert response.status_code == 400 and "Incorrect type" in response.json()["errors"]["content_id"][0]


def test_predict_without_an_active_model_says_so(client, tags):
    response = client.post(reverse("api-predict"), {"title": "x"}, content_type="application/json")
    assert response.status_code == 503 and "no model is active" in response.json()["detail"]


def test_predict_with_the_artifact_missing_is_a_503_problem_logged_once(client, tags, model_dir, monkeypatch, caplog):
    from predictions import model_store
    from predictions.artifact_store import artifact_location
    from predictions.services import serving

    version = make_active_model(tags)
    lose_artifact(version)
    # Nothing loaded from an earlier test may hide the missing artifact.
    monkeypatch.setattr(model_store, "_loaded", model_store.LoadedModels())
    monkeypatch.setattr(serving, "_reported_unavailable", set())
    with caplog.at_level("ERROR", logger="predictions.services.serving"):
        responses = [
            client.post(reverse("api-predict"), {"title": "object detection"}, content_type="application/json")
            for _ in range(2)
        ]
    for response in responses:
        assert response.status_code == 503 and response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 503
        assert f"artifact of model v{version.number} is missing" in response.json()["detail"]
    [record] = [r for r in caplog.records if r.name == "predictions.services.serving"]
    assert artifact_location(version) in record.getMessage()
    assert client.get(reverse("healthz")).status_code == 503  # the health check agrees


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
    response = client.post(
        reverse("api-content-reports", args=[content.pk]),
        {"suggested_tag": "robotics"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "suggested_tag" in response.json()["errors"]
    assert (
        client.post(reverse("api-content-reports", args=[999999]), {}, content_type="application/json").status_code
        == 404
    )


def test_report_answers_with_a_status_link_that_later_shows_the_outcome(client, tags, annotator):
    from labeling.services import review_task_answer, review_task_next

    content = make_content(current_tag=tags["mlops"])
    body = client.post(
        reverse("api-content-reports", args=[content.pk]), {"suggested_tag": "other"}, content_type="application/json"
    ).json()
    status_page = client.get(body["status_url"])
    assert status_page.status_code == 200 and "waiting for an annotator" in status_page.content.decode()
    task = review_task_next(user=annotator)
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["mlops"], note="it is about deployment")
    page = client.get(body["status_url"]).content.decode()
    assert "Rejected" in page and "mlops is right" in page and "it is about deployment" in page


def test_report_api_is_throttled_with_retry_after(client, tags, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"reports": "2/hour", "predict": "100/minute"},
    }
    url = reverse("api-content-reports", args=[make_content().pk])
    codes = [client.post(url, {}, content_type="application/json").status_code for _ in range(3)]
    assert codes == [201, 200, 429]
    response = client.post(url, {}, content_type="application/json")
    assert int(response["Retry-After"]) > 0


def test_report_form_is_throttled_per_client_with_a_clear_page(client, tags, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"reports": "2/hour", "predict": "100/minute"},
    }
    content = make_content(current_tag=tags["mlops"])  # a blank report says its tag is wrong
    url = reverse("labeling:content-report", args=[content.pk])
    assert [client.post(url, {}).status_code for _ in range(2)] == [302, 302]
    response = client.post(url, {})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    # An hourly window: the wait is told in minutes, rounded up, like Retry-After.
    wait = int(response["Retry-After"])
    expected = f"{-(-wait // 60)} minutes" if wait >= 90 else f"{wait} second"
    assert f"try again in {expected}" in response.content.decode()
    assert WrongTagReport.objects.count() == 1  # the two accepted ones were merged


def test_the_form_and_the_api_share_one_report_budget_per_reporter(client, tags, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"reports": "2/hour", "predict": "100/minute"},
    }
    # Tagged: a blank report on the page says the tag is wrong (an untagged item's needs a suggestion).
    first, second = make_content(current_tag=tags["mlops"]), make_content(current_tag=tags["mlops"])
    assert client.post(reverse("labeling:content-report", args=[first.pk]), {}).status_code == 302
    api = reverse("api-content-reports", args=[second.pk])
    assert client.post(api, {}, content_type="application/json").status_code == 201
    assert client.post(api, {}, content_type="application/json").status_code == 429
    assert client.post(reverse("labeling:content-report", args=[second.pk]), {}).status_code == 429


def test_api_docs_load_swagger_ui_from_our_own_static_files(client, settings):
    # The machine may have no internet: a script from a CDN leaves the page blank.
    import re

    from django.contrib.staticfiles import finders

    page = client.get(reverse("api-docs")).content.decode()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), assets
    assert not re.search(r"https?://|//cdn|jsdelivr", page)
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), asset
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), f"{asset} is not a static file here"
