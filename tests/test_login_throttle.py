"""Login lockout on the login page, the admin's login page and HTTP Basic on the API."""

import base64
import logging
import time

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.20"


@pytest.fixture(autouse=True)
def fast_password_hashes(settings):
    """Autouse, so it comes before the user fixtures: a hash per attempt would cost a second here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lockout(settings):
    """5 failures lock a username and address out for 2 s (a real wait, kept short)."""
    settings.TAGLOOP_LOGIN_MAX_FAILURES = 5
    settings.TAGLOOP_LOGIN_FAILURE_WINDOW_SECONDS = 600
    settings.TAGLOOP_LOGIN_LOCKOUT_SECONDS = 2
    return 2


def _client(address=ADDRESS) -> Client:
    return Client(REMOTE_ADDR=address)


def _page_login(client, username, password, url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _basic(username, password) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def _api(client, username, password):
    return client.get(reverse("api-drift"), **_basic(username, password))


# --- /accounts/login/ -------------------------------------------------------------------


def test_after_five_wrong_passwords_even_the_right_one_is_refused_until_the_lockout_ends(annotator, lockout):
    client = _client()
    for _ in range(5):
        response = _page_login(client, "ann", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    refused = _page_login(client, "ann", "pw-ann")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= lockout
    assert "Too many failed logins for this account from your address: try again in" in refused.content.decode()
    assert not _logged_in(client)
    time.sleep(lockout + 0.2)
    assert _page_login(client, "ann", "pw-ann").status_code == 302 and _logged_in(client)


def test_a_success_resets_the_count(annotator, lockout):
    client = _client()
    for _ in range(4):
        _page_login(client, "ann", "wrong")
    assert _page_login(client, "ann", "pw-ann").status_code == 302
    client.logout()
    for _ in range(4):
        _page_login(client, "ann", "wrong")
    assert _page_login(client, "ann", "pw-ann").status_code == 302 and _logged_in(client)


def test_the_lockout_is_per_username_and_address(annotator, second_annotator, lockout):
    for _ in range(5):
        _page_login(_client(), "ann", "wrong")
    assert _page_login(_client(), "ann", "pw-ann").status_code == 429
    assert _page_login(_client("198.51.100.21"), "ann", "pw-ann").status_code == 302  # elsewhere: not locked
    assert _page_login(_client(), "ann2", "pw-ann2").status_code == 302  # another account


def test_an_unknown_username_is_locked_out_like_a_real_one(lockout):
    """Otherwise the lockout would tell a guesser which usernames exist."""
    for _ in range(5):
        _page_login(_client(), "nobody", "wrong")
    assert _page_login(_client(), "nobody", "wrong").status_code == 429


def test_behind_a_proxy_the_lockout_follows_the_forwarded_client(annotator, lockout, settings):
    settings.TAGLOOP_NUM_PROXIES = 1
    proxy = "10.0.0.1"
    for _ in range(5):
        _client(proxy).post(
            reverse("login"), {"username": "ann", "password": "wrong"}, HTTP_X_FORWARDED_FOR="198.51.100.30"
        )
    locked = _client(proxy).post(
        reverse("login"), {"username": "ann", "password": "pw-ann"}, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.30"
    )
    assert locked.status_code == 429
    other = _client(proxy).post(
        reverse("login"), {"username": "ann", "password": "pw-ann"}, HTTP_X_FORWARDED_FOR="198.51.100.31"
    )
    assert other.status_code == 302


# --- /admin/login/ -----------------------------------------------------------------------


def test_the_admin_login_page_locks_out_too(admin_user, lockout):
    client = _client()
    url = reverse("admin:login")
    for _ in range(5):
        assert _page_login(client, "boss", "wrong", url).status_code == 200
    refused = _page_login(client, "boss", "pw-boss", url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many failed logins" in refused.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302  # still sent to the login page
    time.sleep(lockout + 0.2)
    assert _page_login(client, "boss", "pw-boss", url).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


# --- HTTP Basic on the API (off by default: TAGLOOP_API_BASIC_AUTH turns it on) -----------------


@pytest.fixture
def basic_auth_on(settings):
    settings.TAGLOOP_API_BASIC_AUTH = True


def test_basic_auth_is_off_by_default(reviewer):
    assert _api(_client(), "rev", "pw-rev").status_code == 401  # the right password, ignored


def test_basic_auth_on_the_api_answers_429_with_retry_after_once_locked(reviewer, lockout, basic_auth_on):
    client = _client()
    assert [_api(client, "rev", "wrong").status_code for _ in range(5)] == [401] * 5
    refused = _api(client, "rev", "pw-rev")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= lockout
    assert "Too many failed logins" in refused.json()["detail"]
    time.sleep(lockout + 0.2)
    assert _api(client, "rev", "pw-rev").status_code == 200


def test_failures_on_one_path_count_on_the_others(reviewer, lockout, basic_auth_on):
    client = _client()
    for _ in range(3):
        _api(client, "rev", "wrong")
    for _ in range(2):
        _page_login(client, "rev", "wrong")
    assert _api(client, "rev", "pw-rev").status_code == 429
    assert _page_login(client, "rev", "pw-rev").status_code == 429


def test_without_the_cache_logins_still_work_unthrottled(annotator, lockout, settings, caplog):
    """A cache outage must not lock the whole team out: the lockout is skipped, and logged."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }  # nothing listens on port 9
    with caplog.at_level(logging.ERROR, logger="labeling.login_throttle"):
        assert _page_login(_client(), "ann", "pw-ann").status_code == 302
    assert "login throttling skipped" in caplog.text
