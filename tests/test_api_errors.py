"""The API never answers 500 or HTML: bad input of any shape is a 4xx problem+json naming what is wrong."""

import pytest
from django.urls import reverse

from labeling.services import source_token_create
from tests.factories import make_content

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] and body["detail"]
    return body


@pytest.mark.parametrize("field", ["suggested_tag", "comment"])
def test_a_nul_character_in_a_report_is_a_400_naming_the_field(client, tags, field):
    content = make_content(current_tag=tags["mlops"])
    url = reverse("api-content-reports", args=[content.pk])
    response = client.post(url, {field: "a\u0000b"}, content_type="application/json")
    body = _problem(response, 400)
    assert field in body["errors"] and "null" in str(body["errors"][field]).lower()


@pytest.mark.parametrize("field", ["title", "description"])
def test_a_nul_character_in_a_prediction_request_is_a_400_naming_the_field(client, tags, field):
    payload = {"title": "ok", field: "object\u0000detection"}
    body = _problem(client.post(reverse("api-predict"), payload, content_type="application/json"), 400)
    assert field in body["errors"]


@pytest.mark.parametrize("name", ["api-predict", "api-content-ingest", "reports"])
@pytest.mark.parametrize("body", ["[" * 1000, '{"a":' * 1000, "[" * 100_000, '{"title": ', "\xff\xfe"])
def test_deeply_nested_or_malformed_json_is_a_400_saying_so(client, tags, name, body):
    url = reverse("api-content-reports", args=[make_content().pk]) if name == "reports" else reverse(name)
    _, key = source_token_create(source="feed-a", name="crawler")
    response = client.post(
        url, body.encode("latin-1"), content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert "JSON parse error" in _problem(response, 400)["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "source=%00",
        "source__exact=%00",
        "q=%00",
        "current_tag__slug__exact=%00",
        "current_tag_origin__exact=a%00b",
        "o=%00",
        "created_on__gte=%00",
    ],
)
def test_a_nul_character_in_an_admin_list_query_is_a_400_not_a_500(client, admin_user, query):
    client.force_login(admin_user)
    response = client.get(f"{reverse('admin:labeling_content_changelist')}?{query}")
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/drift?x=%00", "/api/v1/predict?a%00=1"])
def test_a_nul_character_in_an_api_query_is_a_400_problem(client, url):
    assert "NUL" in _problem(client.get(url), 400)["detail"]


def _ingest(client, body: bytes, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    return client.post(reverse("api-content-ingest"), body, content_type="application/json", **headers)


def test_every_kind_of_api_error_is_problem_json_even_when_the_client_prefers_html(client, tags, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "reports": "1/hour"},
    }
    html = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}
    _, key = source_token_create(source="feed-a", name="crawler")
    report_url = reverse("api-content-reports", args=[make_content().pk])

    assert _problem(_ingest(client, b"{}"), 401)["detail"]
    assert _problem(client.get(reverse("api-drift"), **html), 401)["detail"]
    assert _problem(
        client.post(reverse("api-content-reports", args=[999999]), {}, content_type="application/json", **html), 404
    )
    assert "GET" in _problem(client.get(reverse("api-predict"), **html), 405)["detail"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert (
        "larger than 100 bytes"
        in _problem(_ingest(client, b'{"id": "1", "title": "' + b"x" * 200 + b'"}', key), 413)["detail"]
    )
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    assert (
        "text/plain" in _problem(client.post(reverse("api-predict"), "title", content_type="text/plain"), 415)["detail"]
    )
    assert client.post(report_url, {}, content_type="application/json").status_code == 201
    throttled = client.post(
        reverse("api-content-reports", args=[make_content().pk]), {}, content_type="application/json", **html
    )
    _problem(throttled, 429)
    assert int(throttled["Retry-After"]) > 0


def test_an_unauthenticated_ingest_says_how_to_authenticate(client, tags):
    response = _ingest(client, b"{}", key="wrong")
    assert "revoked" in _problem(response, 401)["detail"] and response["WWW-Authenticate"] == "Token"


def test_a_batch_with_invalid_items_is_a_problem_listing_each_item(client, tags):
    _, key = source_token_create(source="feed-a", name="crawler")
    body = _problem(_ingest(client, b'[{"id": "1", "title": ""}, {"id": "2"}]', key), 400)
    assert [(error["index"], error["field"]) for error in body["errors"]] == [(0, "title"), (1, "title")]


@pytest.mark.parametrize(
    "payload,field", [({"title": 5}, "title"), ({"title": "ok", "description": 1.5}, "description")]
)
def test_a_number_where_the_schema_says_string_is_a_400(client, payload, field):
    body = _problem(client.post(reverse("api-predict"), payload, content_type="application/json"), 400)
    assert body["errors"][field] == ["Not a valid string."]


def test_the_api_takes_json_only_a_form_is_a_415(client, tags):
    # A form cannot say null, which the schema allows for a suggested tag: "null" would be a tag name.
    url = reverse("api-content-reports", args=[make_content().pk])
    assert "multipart/form-data" in _problem(client.post(url, {"suggested_tag": "null"}), 415)["detail"]
