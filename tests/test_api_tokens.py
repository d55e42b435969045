"""Personal API tokens: made and revoked on the user's own page, shown once, stored hashed, used as Bearer."""

import hashlib
import re

import pytest
from django.test import Client
from django.urls import reverse

from labeling.models import ApiToken
from labeling.services.api_tokens import api_token_create

pytestmark = pytest.mark.django_db

DRIFT = "/api/v1/drift"  # reviewers' endpoint: tells a reviewer's token from no token


def _bearer(key: str, keyword: str = "Bearer") -> dict:
    return {"HTTP_AUTHORIZATION": f"{keyword} {key}"}


def _logged_in(user) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def _form_id(client: Client) -> str:
    page = client.get(reverse("api-tokens")).content.decode()
    found = re.search(r'name="form_id" value="([\w-]+)"', page)
    assert found, "the page has no form id"
    return found.group(1)


def _make_on_page(client: Client, name: str):
    return client.post(reverse("api-tokens"), {"name": name, "form_id": _form_id(client)})


def test_a_token_made_on_the_page_is_shown_once_and_stored_as_a_hash(reviewer):
    page = _make_on_page(_logged_in(reviewer), "nightly export")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    key = re.search(r'id="new-key">(tlu_[\w-]+)<', page.content.decode()).group(1)
    token = ApiToken.objects.get(user=reviewer)
    assert token.name == "nightly export" and key.startswith(token.key_prefix)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    again = _logged_in(reviewer).get(reverse("api-tokens")).content.decode()
    assert key not in again and token.key_prefix in again and "nightly export" in again


def test_a_name_is_required(reviewer):
    client = _logged_in(reviewer)
    page = client.post(reverse("api-tokens"), {"name": "   ", "form_id": _form_id(client)})
    assert page.status_code == 400 and "This field is required" in page.content.decode()
    assert not ApiToken.objects.exists()


def test_sending_the_form_again_makes_no_second_token(reviewer):
    client = _logged_in(reviewer)
    form = {"name": "nightly export", "form_id": _form_id(client)}
    first = client.post(reverse("api-tokens"), form)
    assert 'id="new-key"' in first.content.decode()
    reload = client.post(reverse("api-tokens"), form).content.decode()  # the browser's "resend"
    assert ApiToken.objects.filter(user=reviewer).count() == 1
    assert 'id="new-key"' not in reload and "no second token was made" in reload
    # A fresh form still works, and so do two forms opened side by side.
    tab_a, tab_b = _form_id(client), _form_id(client)
    client.post(reverse("api-tokens"), {"name": "tab b", "form_id": tab_b})
    client.post(reverse("api-tokens"), {"name": "tab a", "form_id": tab_a})
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["nightly export", "tab a", "tab b"]


def test_the_page_is_for_logged_in_users(reviewer):
    assert Client().get(reverse("api-tokens"))["Location"].startswith("/accounts/login/")


def test_bearer_and_token_keywords_act_as_the_user_and_record_the_last_use(reviewer):
    token, key = api_token_create(user=reviewer, name="script")
    assert token.last_used_at is None
    assert Client().get(DRIFT, **_bearer(key)).status_code == 200
    assert Client().get(DRIFT, **_bearer(key, "Token")).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_has_its_owners_permissions_only(annotator):
    _, key = api_token_create(user=annotator, name="script")
    assert Client().get(DRIFT, **_bearer(key)).status_code == 403  # annotators do not monitor


def test_a_revoked_or_altered_key_is_refused(reviewer, annotator):
    token, key = api_token_create(user=reviewer, name="script")
    assert Client().get(DRIFT, **_bearer(key[:-1] + ("A" if key[-1] != "A" else "B"))).status_code == 401
    # Another user cannot revoke it.
    _logged_in(annotator).post(reverse("api-token-revoke", args=[token.pk]))
    assert Client().get(DRIFT, **_bearer(key)).status_code == 200
    answer = _logged_in(reviewer).post(reverse("api-token-revoke", args=[token.pk]))
    assert answer.status_code == 302
    refused = Client().get(DRIFT, **_bearer(key))
    assert refused.status_code == 401 and refused["Content-Type"] == "application/problem+json"
    assert "revoked" in refused.json()["detail"]
    assert "revoked" in _logged_in(reviewer).get(reverse("api-tokens")).content.decode()


def test_a_deactivated_users_token_is_refused(reviewer):
    _, key = api_token_create(user=reviewer, name="script")
    reviewer.is_active = False
    reviewer.save()
    assert Client().get(DRIFT, **_bearer(key)).status_code == 401


def test_a_token_needs_no_csrf_token_but_a_session_does(reviewer, tags):
    from tests.factories import make_content

    content = make_content()
    _, key = api_token_create(user=reviewer, name="script")
    url = reverse("api-content-reports", args=[content.pk])
    answer = Client(enforce_csrf_checks=True).post(url, {}, content_type="application/json", **_bearer(key))
    assert answer.status_code == 201
    session = Client(enforce_csrf_checks=True)
    session.force_login(reviewer)
    assert session.post(url, {}, content_type="application/json").status_code == 403
