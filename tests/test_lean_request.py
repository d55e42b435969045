"""What a predict request costs besides the model: no query when warm, a kept token, DRF's answers unchanged."""

import time

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.api_negotiation import JSONFirstNegotiation
from labeling.models import ApiToken
from labeling.services.api_tokens import api_token_create
from predictions import model_store
from predictions.api.predict import (
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    PredictRequestSerializer,
    plain_body,
)
from predictions.selectors import trust
from tests.factories import make_active_model, make_content

pytestmark = pytest.mark.django_db

BODY = {"title": "Semantic segmentation of images", "description": "pixel classification with a U-Net"}


@pytest.fixture
def served(tags, model_dir, monkeypatch, fresh_model_cache):
    """An active model, and the serving state kept long enough that no test straddles its re-read."""
    monkeypatch.setattr(model_store, "SERVING_STATE_TTL_SECONDS", 600.0)
    monkeypatch.setattr(trust, "THRESHOLDS_TTL_SECONDS", 600.0)
    return make_active_model(tags)


def _predict(client: Client, **headers):
    return client.post(reverse("api-predict"), BODY, content_type="application/json", **headers)


def _bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_a_warm_process_answers_a_predict_without_a_query(served, django_assert_num_queries):
    client = Client()
    first = _predict(client)  # reads the serving state, the thresholds, loads the model
    with django_assert_num_queries(0):
        again = _predict(client)
    assert again.status_code == 200 and again.json() == first.json()


def test_the_trust_score_is_made_once_per_serving_state_not_per_request(served, monkeypatch):
    made = []
    real = trust.acceptance_scorer
    monkeypatch.setattr(trust, "acceptance_scorer", lambda version: made.append(version.pk) or real(version))
    model_store.forget_serving_state()
    client = Client()
    answers = [_predict(client).json() for _ in range(3)]
    assert made == [served.pk] and answers[0] == answers[1] == answers[2]
    model_store.forget_serving_state()  # a re-read makes the scorer of the version it read
    assert _predict(client).json() == answers[0] and made == [served.pk, served.pk]


def test_a_token_is_read_once_then_its_requests_make_no_query(served, reviewer, django_assert_num_queries):
    _, key = api_token_create(user=reviewer, name="script")
    client = Client()
    assert _predict(client, **_bearer(key)).status_code == 200  # reads the token, records its use
    with django_assert_num_queries(0):
        assert _predict(client, **_bearer(key)).status_code == 200
    # A token the process keeps still acts with its owner's role: a reviewer may read drift, an annotator not.
    assert client.get("/api/v1/drift", **_bearer(key)).status_code == 200


def test_a_token_revoked_by_another_process_is_refused_within_the_cache_time(served, reviewer, settings):
    settings.TAGLOOP_API_TOKEN_CACHE_SECONDS = 0.5
    token, key = api_token_create(user=reviewer, name="script")
    client = Client()
    assert _predict(client, **_bearer(key)).status_code == 200
    # What another web process's revoke does to this one: the row changes, this process is not told.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert _predict(client, **_bearer(key)).status_code == 200  # kept: the documented window
    time.sleep(0.6)
    refused = _predict(client, **_bearer(key))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_with_no_cache_time_a_revoke_or_a_deactivation_elsewhere_is_refused_at_once(served, reviewer, settings):
    settings.TAGLOOP_API_TOKEN_CACHE_SECONDS = 0
    token, key = api_token_create(user=reviewer, name="script")
    client = Client()
    assert _predict(client, **_bearer(key)).status_code == 200
    type(reviewer).objects.filter(pk=reviewer.pk).update(is_active=False)
    assert _predict(client, **_bearer(key)).status_code == 401
    type(reviewer).objects.filter(pk=reviewer.pk).update(is_active=True)
    assert _predict(client, **_bearer(key)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert _predict(client, **_bearer(key)).status_code == 401


def test_a_token_revoked_on_its_page_is_refused_at_once_by_the_process_that_kept_it(served, reviewer):
    token, key = api_token_create(user=reviewer, name="script")
    client = Client()
    assert _predict(client, **_bearer(key)).status_code == 200
    page = Client()
    page.force_login(reviewer)
    assert page.post(reverse("api-token-revoke", args=[token.pk])).status_code == 302
    assert _predict(client, **_bearer(key)).status_code == 401


ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "",
    "text/html",
    "application/xml",
    "application/json; indent=4",
    "text/html,application/json;q=0.9",
    "*/*;q=0.1, text/html",
    " */*",
    "application/*",
]


@pytest.mark.parametrize("query", ["", "?format=api", "?format=json", "?format=xml"])
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_negotiation_answers_as_drfs_for_every_accept_header(accept, query):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]

    def choose(negotiation):
        request = Request(APIRequestFactory().post(f"/api/v1/predict{query}", **headers))
        try:
            renderer, media_type = negotiation.select_renderer(request, renderers)
        except NotAcceptable:
            return "406"
        except Http404:  # ?format= naming no renderer
            return "404"
        return type(renderer).__name__, media_type

    assert choose(JSONFirstNegotiation()) == choose(DefaultContentNegotiation())


def test_the_predict_api_still_refuses_an_empty_accept_header(served):
    assert _predict(Client(), HTTP_ACCEPT="").status_code == 406


class _DeepCopied(PredictRequestSerializer):
    """DRF's own way of giving a serializer its fields."""

    def get_fields(self):
        return serializers.Serializer.get_fields(self)


BODIES = [
    BODY,
    {"title": "  trimmed  ", "description": ""},
    {"title": "   "},
    {"title": 5, "description": 1.5},
    {"title": "x" * 1001},
    {"description": "no title"},
    {"title": "ok", "content_id": "7"},
    {"title": "ok", "content_id": 1.5},
    {"title": "ok", "content_id": True},
    {"title": "ok", "content_id": 999999},
    {"title": "nul\x00"},
    [],
    "text",
]


def test_shallow_copied_fields_validate_as_deep_copied_ones(tags):
    content = make_content()
    for body in [*BODIES, {"title": "ok", "content_id": content.pk}, {"title": "ok", "content_id": str(content.pk)}]:
        ours, drfs = PredictRequestSerializer(data=body), _DeepCopied(data=body)
        assert ours.is_valid() == drfs.is_valid(), body
        assert ours.errors == drfs.errors, body
        assert dict(ours.validated_data) == dict(drfs.validated_data), body
    # The same fields, arguments and all (the first line names the class).
    assert repr(PredictRequestSerializer()).split("\n")[1:] == repr(_DeepCopied()).split("\n")[1:]


ODD_BODIES = [
    {"title": "\u00a0 title \u2003", "description": "\x1c\x1d text \x1f\u3000"},
    {"title": "\x1c\x1f\u2028"},
    {"title": "x" * 1000},
    {"title": " " * 50 + "x" * 1000 + "\n" * 50, "description": " " * 30000},
    {"title": "x" * 1001},
    {"title": "ok", "description": "y" * 20000},
    {"title": "ok", "description": "y" * 20001},
    {"title": "ok", "description": "  \t\n "},
    {"title": "ok", "description": None},
    {"title": None},
    {"title": "ok", "description": 3},
    {"title": "ok", "description": ["a"]},
    {"title": True},
    {"title": "lone \ud800 surrogate"},
    {"title": "ok", "description": "lone \udfff surrogate"},
    {"title": "ok", "description": "nul \x00 inside"},
    {"title": "ok", "content_id": None},
    {"title": "ok", "extra": "ignored", "model_version": 3},
    {"title": "ünïcödé 标题 🚀", "description": "emoji 🚀 and tabs\t"},
    {},
    None,
    5,
]


def test_the_common_body_is_validated_as_the_serializer_would_and_the_rest_left_to_it(tags):
    import csv

    from tests.ml.conftest import dataset_path

    content = make_content()
    with open(dataset_path(), newline="", encoding="utf-8") as handle:
        rows = [{"title": row["title"], "description": row["description"]} for row in csv.DictReader(handle)]
    bodies = [
        *BODIES,
        *ODD_BODIES,
        {"title": "ok", "content_id": content.pk},
        *rows,
        *({"title": r["title"]} for r in rows),
    ]
    taken = 0
    for body in bodies:
        plain, serializer = plain_body(body), PredictRequestSerializer(data=body)
        if plain is not None:
            taken += 1
            assert serializer.is_valid() and plain == dict(serializer.validated_data), body
    # The dataset's bodies (and the valid odd ones) take the plain path; a content id, or anything refused, never.
    assert taken >= 2 * len(rows) + 5
    for body in [*BODIES, *ODD_BODIES]:
        if not PredictRequestSerializer(data=body).is_valid() or (isinstance(body, dict) and "content_id" in body):
            assert plain_body(body) is None, body


def test_the_plain_body_knows_every_check_of_the_fields(tags):
    # plain_body repeats these checks: a validator added to a field must be added there too.
    fields = PredictRequestSerializer().fields
    assert [type(v).__name__ for v in fields["title"].validators] == [
        "CompiledRegexValidator",
        "MaxLengthValidator",
        "ProhibitNullCharactersValidator",
        "SurrogateCharactersSearch",
    ]
    assert [type(v).__name__ for v in fields["description"].validators] == [
        "MaxLengthValidator",
        "ProhibitNullCharactersValidator",
        "SurrogateCharactersSearch",
    ]
    assert (fields["title"].max_length, fields["description"].max_length) == (TITLE_MAX_LENGTH, DESCRIPTION_MAX_LENGTH)
    assert set(fields) == {"title", "description", "content_id"}


def test_each_serializer_has_fields_of_its_own(tags):
    first, second = PredictRequestSerializer(), PredictRequestSerializer()
    for name in first.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert first.fields[name] is not PredictRequestSerializer._declared_fields[name]


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json; indent=4"])
def test_a_json_answer_is_the_bytes_and_headers_drf_would_send(served, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    answer = _predict(Client(), **headers)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert "Accept" in answer["Vary"] and "POST" in answer["Allow"]
    assert answer.content == JSONRenderer().render(answer.json(), accept or "application/json")
    assert (b"\n    " in answer.content) == (accept == "application/json; indent=4")


def test_a_browser_asking_for_html_still_gets_drfs_page(served):
    answer = _predict(Client(), HTTP_ACCEPT="text/html")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/html")
    assert b"computer-vision" in answer.content


def test_pages_keep_their_flash_messages_and_the_checks_accept_the_page_only_middleware(reviewer):
    from django.core.management import call_command

    call_command("check")  # the admin requires a MessageMiddleware: PageMessageMiddleware is one
    token, _ = api_token_create(user=reviewer, name="script")
    page = Client()
    page.force_login(reviewer)
    shown = page.post(reverse("api-token-revoke", args=[token.pk]), follow=True)
    assert [str(message) for message in shown.context["messages"]]  # the revoke's flash message, on the next page


def test_a_compiled_regex_validator_judges_and_documents_as_djangos():
    from django.core.exceptions import ValidationError
    from django.core.validators import RegexValidator

    from config.api_fields import CompiledRegexValidator

    ours, django_s = CompiledRegexValidator(r"\S"), RegexValidator(r"\S")
    assert ours == django_s and ours.regex.pattern == django_s.regex.pattern == r"\S"
    for value in ["x", " x ", "   ", "", "\t\n"]:
        outcomes = []
        for validator in (ours, django_s):
            try:
                validator(value)
                outcomes.append(None)
            except ValidationError as error:
                outcomes.append((error.messages, error.code))
        assert outcomes[0] == outcomes[1], value


def test_the_surrogate_search_refuses_as_drfs_loop():
    from rest_framework.exceptions import ValidationError
    from rest_framework.validators import ProhibitSurrogateCharactersValidator

    from config.api_fields import StrictCharField, SurrogateCharactersSearch

    assert any(isinstance(v, SurrogateCharactersSearch) for v in StrictCharField().validators)
    for value in ["plain", "emoji 😀 fine", "a\ud800b", "x\udfff\ud800", "\udbff", "é\u00e9"]:
        outcomes = []
        for validator in (SurrogateCharactersSearch(), ProhibitSurrogateCharactersValidator()):
            try:
                validator(value)
                outcomes.append(None)
            except ValidationError as error:
                outcomes.append((error.detail, error.detail[0].code))
        assert outcomes[0] == outcomes[1], value
