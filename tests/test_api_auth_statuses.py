"""401 or 403 on the API: 401 (with a WWW-Authenticate challenge) for missing-where-needed or bad
credentials, 403 only for a caller who signed in and may not do it; a browser session and its CSRF
check behave as before.

The matrix: no credentials, a bad token, a revoked token, a valid token without the permission and
one with it, on a public endpoint, a reviewer's, an admin's and ingestion (a source's key).
"""

import pytest
from django.test import Client
from django.urls import reverse

from labeling.services import source_token_create, source_token_revoke
from labeling.services.api_tokens import api_token_create, api_token_revoke
from tests.factories import make_content

pytestmark = pytest.mark.django_db

CHALLENGE = 'Bearer realm="api"'
PUBLIC, REVIEWERS, ADMINS = "/api/v1/tags", "/api/v1/drift", "/api/v1/model-versions"
INGEST = "/api/v1/content"


def _authorization(key: str | None, keyword: str) -> dict[str, str]:
    return {"Authorization": f"{keyword} {key}"} if key else {}


def _get(url: str, key: str | None = None, keyword: str = "Bearer"):
    return Client().get(url, headers=_authorization(key, keyword))


def _ingest(key: str | None = None, keyword: str = "Token"):
    body = {"id": "1", "title": "Feature store"}
    return Client().post(INGEST, body, content_type="application/json", headers=_authorization(key, keyword))


def _altered(key: str) -> str:
    return key[:-1] + ("A" if key[-1] != "A" else "B")


def _revoked_key(user) -> str:
    token, key = api_token_create(user=user, name="old script")
    assert api_token_revoke(user=user, token_id=token.pk)
    return key


def _refused_with_a_challenge(response, challenge: str = CHALLENGE) -> None:
    assert response.status_code == 401, (response.status_code, response.content)
    assert response["WWW-Authenticate"] == challenge
    assert response["Content-Type"] == "application/problem+json" and response.json()["status"] == 401


def _refused_for_this_account(response) -> None:
    assert response.status_code == 403, (response.status_code, response.content)
    assert "WWW-Authenticate" not in response


@pytest.mark.parametrize("url", [PUBLIC, REVIEWERS, ADMINS])
def test_a_bad_or_revoked_token_is_a_401_on_every_endpoint_even_a_public_one(url, tags, reviewer):
    _, key = api_token_create(user=reviewer, name="script")
    _refused_with_a_challenge(_get(url, _altered(key)))
    _refused_with_a_challenge(_get(url, _revoked_key(reviewer)))
    _refused_with_a_challenge(_get(url, "not-a-tagloop-key"))
    _refused_with_a_challenge(_get(url, _altered(key), keyword="Token"))


def test_no_credentials_is_a_401_where_they_are_needed_and_fine_where_not(tags):
    assert _get(PUBLIC).status_code == 200
    _refused_with_a_challenge(_get(REVIEWERS))
    _refused_with_a_challenge(_get(ADMINS))


def test_a_valid_token_without_the_permission_is_a_403_and_with_it_served(tags, annotator, reviewer, admin_user):
    keys = {user: api_token_create(user=user, name="script")[1] for user in (annotator, reviewer, admin_user)}
    assert _get(PUBLIC, keys[annotator]).status_code == 200
    _refused_for_this_account(_get(REVIEWERS, keys[annotator]))
    assert _get(REVIEWERS, keys[reviewer]).status_code == 200
    _refused_for_this_account(_get(ADMINS, keys[reviewer]))
    assert _get(ADMINS, keys[admin_user]).status_code == 200


def test_ingestion_takes_a_source_key_and_refuses_anything_else_with_a_401(tags, reviewer):
    _, key = source_token_create(source="feed-a", name="crawler")
    revoked, revoked_key = source_token_create(source="feed-a", name="old crawler")
    source_token_revoke(token_ids=[revoked.pk])
    _refused_with_a_challenge(_ingest(), "Token")
    _refused_with_a_challenge(_ingest(_altered(key)), "Token")
    _refused_with_a_challenge(_ingest(revoked_key), "Token")
    # A person's valid token is no credential of this endpoint (which takes no person's), so a 401 that says so.
    personal = _ingest(api_token_create(user=reviewer, name="script")[1], keyword="Bearer")
    _refused_with_a_challenge(personal, "Token")
    assert "source" in personal.json()["detail"]
    assert _ingest(key).status_code == 201


def test_a_sources_key_signs_nobody_in_outside_ingestion(tags):
    _, key = source_token_create(source="feed-a", name="crawler")
    assert _get(PUBLIC, key, keyword="Token").status_code == 200
    _refused_with_a_challenge(_get(REVIEWERS, key, keyword="Token"))


def test_a_session_is_served_as_before_and_refused_with_a_403_by_role_or_csrf(tags, annotator, reviewer):
    session = Client(enforce_csrf_checks=True)
    session.force_login(annotator)
    _refused_for_this_account(session.get(REVIEWERS))
    session.force_login(reviewer)
    assert session.get(REVIEWERS).status_code == 200
    # A session wins over a broken token sent beside it, as it did.
    assert session.get(REVIEWERS, HTTP_AUTHORIZATION="Bearer tlu_broken").status_code == 200
    url = reverse("api-content-reports", args=[make_content().pk])
    no_csrf = session.post(url, {}, content_type="application/json")
    _refused_for_this_account(no_csrf)
    assert "CSRF" in no_csrf.json()["detail"]


def test_with_basic_on_the_challenge_names_both_schemes(tags, reviewer, settings):
    settings.TAGLOOP_API_BASIC_AUTH = True
    _refused_with_a_challenge(_get(REVIEWERS), 'Bearer realm="api", Basic realm="api"')
    wrong_password = Client().get(REVIEWERS, HTTP_AUTHORIZATION="Basic cmV2Ondyb25n")  # rev:wrong
    _refused_with_a_challenge(wrong_password, 'Bearer realm="api", Basic realm="api"')


def test_the_schema_lists_the_schemes_and_documents_the_401s(tags, settings):
    schema = Client().get(reverse("schema"), HTTP_ACCEPT="application/json").json()
    assert set(schema["components"]["securitySchemes"]) == {"cookieAuth", "userToken", "sourceToken"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "401" in operation["responses"], (method, path)
            assert {"userToken": []} in operation["security"] or {"sourceToken": []} in operation["security"]
