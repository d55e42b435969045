"""Streaming ingestion: POST /api/v1/content with a per-source token."""

import json
import re

import pytest
from django.urls import reverse

from labeling.models import Content, SourceToken
from labeling.services import source_token_create, source_token_revoke
from labeling.services.api_tokens import api_token_create
from labeling.services.tokens import key_hash
from tests.factories import make_content

pytestmark = pytest.mark.django_db
URL = "/api/v1/content"


def _post(client, body, key=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    return client.post(URL, json.dumps(body), content_type="application/json", **headers, **extra)


@pytest.fixture
def key(tags):
    _, key = source_token_create(source="feed-a", name="crawler")
    return key


def test_the_url_is_the_documented_one():
    assert reverse("api-content-ingest") == URL


def test_one_item_is_created_for_the_token_source(client, key):
    response = _post(client, {"id": "x-1", "title": "  Object   detection with YOLO ", "created_on": "2024-05-01"}, key)
    assert response.status_code == 201
    body = response.json()
    assert body["source"] == "feed-a"
    [item] = body["items"]
    content = Content.objects.get(pk=item["id"])
    assert item == {"index": 0, "id": content.pk, "status": "created"}
    assert (content.source, content.external_id, content.title) == ("feed-a", "x-1", "Object detection with YOLO")
    assert content.created_on.isoformat() == "2024-05-01T00:00:00+00:00"


@pytest.mark.parametrize("header", [None, "Token tl_not-a-real-key", "Bearer whatever", "Token"])
def test_without_a_valid_token_the_answer_is_401(client, tags, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(URL, json.dumps({"id": "1", "title": "t"}), content_type="application/json", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not Content.objects.exists()


def test_a_source_key_works_with_the_bearer_keyword_too(client, key, admin_user):
    # Personal tokens take "Bearer" or "Token"; a source key sent the same way must not be
    # refused as "credentials were not provided", while a person's key stays refused here.
    body = json.dumps({"id": "b-1", "title": "Graph networks"})
    response = client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 201 and response.json()["source"] == "feed-a"
    _, personal = api_token_create(user=admin_user, name="script")
    for keyword in ("Bearer", "Token"):
        response = client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"{keyword} {personal}")
        assert response.status_code == 401
        assert "personal API token" in response.json()["detail"]  # not "credentials were not provided"
    assert Content.objects.count() == 1


def test_a_revoked_token_gets_401(client, tags):
    token, key = source_token_create(source="feed-a")
    assert _post(client, {"id": "1", "title": "Graph networks"}, key).status_code == 201
    source_token_revoke(token_ids=[token.pk])
    response = _post(client, {"id": "2", "title": "Graph networks again"}, key)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert Content.objects.count() == 1


def test_only_a_hash_and_a_prefix_of_the_key_are_stored(key):
    token = SourceToken.objects.get()
    assert token.key_hash == key_hash(key) and key.startswith(token.key_prefix)
    assert key not in json.dumps(list(SourceToken.objects.values()), default=str)


def test_a_batch_with_an_invalid_item_stores_nothing_and_names_index_and_field(client, key):
    batch = [
        {"id": "ok-1", "title": "Text classification with BERT"},
        {"id": "bad-1", "title": "   "},
        {"id": "bad-2", "title": "Fine", "created_on": "yesterday"},
        "not an object",
        {"id": "ok-1", "title": "Same id twice"},
        {"id": "bad-3", "title": "Has a tag", "tag": "mlops"},
        {"id": "bad-4", "title": ["a", "list"]},
    ]
    response = _post(client, batch, key)
    assert response.status_code == 400
    errors = {(error["index"], error["field"]) for error in response.json()["errors"]}
    assert errors == {(1, "title"), (2, "created_on"), (3, None), (4, "id"), (5, "tag"), (6, "title")}
    assert "nothing was stored" in response.json()["detail"]
    assert not Content.objects.exists()


def test_duplicates_by_id_and_by_text_answer_the_stored_id(client, key, tags):
    older = make_content(title="Feature stores in production", description="Serving features.", source="import")
    first = _post(client, [{"id": "a", "title": "Pose estimation", "description": "keypoints"}], key).json()["items"][0]
    response = _post(
        client,
        [
            {"id": "a", "title": "Pose estimation", "description": "keypoints"},  # same id, same text
            {"id": "b", "title": "FEATURE stores in  production", "description": "serving features."},  # same text
            {"id": "a2", "title": "Pose estimation", "description": "keypoints"},  # same text, other id
            {"id": "c", "title": "A new one"},
        ],
        key,
    )
    assert response.status_code == 201
    items = response.json()["items"]
    assert [(item["status"], item["id"]) for item in items[:3]] == [
        ("duplicate", first["id"]),
        ("duplicate", older.pk),
        ("duplicate", first["id"]),
    ]
    assert items[3]["status"] == "created"
    assert Content.objects.count() == 3


def test_the_same_id_with_a_new_text_is_updated(client, key):
    first = _post(client, {"id": "a", "title": "Old title"}, key).json()["items"][0]
    response = _post(client, {"id": "a", "title": "New title"}, key)
    assert response.json()["items"] == [{"index": 0, "id": first["id"], "status": "updated"}]
    assert Content.objects.get(pk=first["id"]).title == "New title"


def test_the_same_id_from_another_source_is_another_item(client, key):
    _, other = source_token_create(source="feed-b")
    a = _post(client, {"id": "1", "title": "Speech recognition"}, key).json()["items"][0]
    b = _post(client, {"id": "1", "title": "Image captioning"}, other).json()["items"][0]
    assert a["status"] == b["status"] == "created" and a["id"] != b["id"]


def test_too_many_items_is_413_with_a_clear_message(client, key, settings):
    settings.TAGLOOP_INGEST_MAX_ITEMS = 3
    response = _post(client, [{"id": str(i), "title": f"item {i}"} for i in range(4)], key)
    assert response.status_code == 413
    assert "at most 3" in response.json()["detail"]
    assert not Content.objects.exists()


def test_a_body_over_the_limit_is_413_json(client, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = _post(client, [{"id": "1", "title": "x" * 900, "description": "y" * 2000}], key)
    assert response.status_code == 413
    assert "larger than 2000 bytes" in response.json()["detail"]


def test_a_large_form_post_elsewhere_is_413_not_400(client, tags, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 500
    content = make_content()
    response = client.post(reverse("labeling:content-report", args=[content.pk]), {"comment": "z" * 2000})
    assert response.status_code == 413


@pytest.mark.parametrize("body", ["[]", "{}", "42", "not json"])
def test_an_empty_or_malformed_body_is_400(client, key, body):
    response = client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 400


def test_each_token_is_throttled(client, key, monkeypatch):
    from labeling.api.ingest import SourceTokenThrottle

    monkeypatch.setattr(SourceTokenThrottle, "THROTTLE_RATES", {"ingest": "2/minute"})
    codes = [_post(client, {"id": str(i), "title": f"Item {i}"}, key).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    _, other = source_token_create(source="feed-b")
    assert _post(client, {"id": "9", "title": "Another token"}, other).status_code == 201


def test_the_admin_shows_a_new_key_once_and_it_works(client, admin_user, tags):
    client.force_login(admin_user)
    response = client.post(reverse("admin:labeling_sourcetoken_add"), {"source": "partner", "name": "nightly"})
    assert response.status_code == 200
    key = re.search(r'id="new-source-key"[^>]*>(tl_[^<]+)<', response.content.decode()).group(1)
    token = SourceToken.objects.get()
    assert token.created_by == admin_user and token.key_hash == key_hash(key)
    change = client.get(reverse("admin:labeling_sourcetoken_change", args=[token.pk])).content.decode()
    assert key not in change and token.key_prefix in change
    client.logout()
    assert _post(client, {"id": "1", "title": "From the partner"}, key).status_code == 201
    client.force_login(admin_user)
    client.post(reverse("admin:labeling_sourcetoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})
    client.logout()
    assert _post(client, {"id": "2", "title": "After revocation"}, key).status_code == 401


def test_annotators_cannot_create_tokens(client, annotator):
    client.force_login(annotator)
    response = client.get(reverse("admin:labeling_sourcetoken_add"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_posted_item_is_predicted_by_the_worker(celery_worker_process, client, tags, settings):
    from predictions.models import Prediction
    from tests.conftest import wait_until
    from tests.factories import make_active_model

    settings.MODEL_DIR = celery_worker_process["model_dir"]
    version = make_active_model(tags)
    _, key = source_token_create(source="live-feed")
    response = _post(
        client,
        {
            "id": "w-1",
            "title": "Semantic segmentation of street images",
            "description": "pixel level image classification with convolutional networks",
        },
        key,
    )
    assert response.status_code == 201
    content_id = response.json()["items"][0]["id"]
    prediction = wait_until(
        lambda: Prediction.objects.filter(content_id=content_id, model_version=version).first(),
        timeout=90,
        message="the worker's prediction of the posted item",
    )
    assert prediction.tag.slug == "computer-vision"
    content = wait_until(
        lambda: Content.objects.filter(pk=content_id, current_model_version=version.number).first(),
        timeout=30,
        message="the model tag on the item",
    )
    assert content.current_tag.slug == "computer-vision"


def test_a_nul_character_is_a_400_naming_index_and_field(client, key):
    response = _post(client, [{"id": "n1", "title": "ok"}, {"id": "n2", "title": "a\u0000b"}], key)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error == {"index": 1, "field": "title", "message": "field 'title' contains a NUL character"}
    assert not Content.objects.exists()


def test_a_lone_surrogate_is_a_400_naming_index_and_field(client, key):
    # JSON may escape half a character ("\ud800"); no database stores it, and hashing it fails.
    body = '[{"id": "s1", "title": "ok"}, {"id": "s2", "title": "x", "description": "a\\ud800b"}]'
    response = client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error == {
        "index": 1,
        "field": "description",
        "message": "field 'description' contains a lone surrogate (U+D800), half of a character",
    }
    assert not Content.objects.exists()
