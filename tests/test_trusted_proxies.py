"""TAGLOOP_NUM_PROXIES: X-Forwarded-For is believed only as far as our own proxies wrote it."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

from labeling.clients import client_address
from labeling.models import WrongTagReport
from tests.factories import make_content

PROXY = "10.0.0.1"


@pytest.fixture
def predict_limit(monkeypatch):
    """20/minute for predict: DRF's throttle read its rates once, at import."""
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "predict", "20/minute")


@pytest.fixture
def proxies(settings):
    def behind(count: int):
        settings.TAGLOOP_NUM_PROXIES = count
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return behind


def _predict(remote: str, forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    client = Client(REMOTE_ADDR=remote)
    response = client.post(
        reverse("api-predict"), {"title": "a text"}, content_type="application/json", headers=headers
    )
    return response.status_code


@pytest.mark.parametrize(
    "count,forwarded,remote,expected",
    [
        (0, None, "203.0.113.5", "203.0.113.5"),
        (0, "198.51.100.9", "203.0.113.5", "203.0.113.5"),  # no proxy: the header is anyone's
        (1, "198.51.100.9", PROXY, "198.51.100.9"),  # the address our proxy saw
        (1, "6.6.6.6, 198.51.100.9", PROXY, "198.51.100.9"),  # the client's own entry is ignored
        (2, "6.6.6.6, 198.51.100.9, 10.0.0.2", PROXY, "198.51.100.9"),  # two proxies: second from the right
        (2, "198.51.100.9", PROXY, "198.51.100.9"),  # a chain shorter than declared: leftmost
        (1, None, "203.0.113.5", "203.0.113.5"),  # no header: the connection
    ],
)
def test_the_client_address_and_drf_throttles_agree(count, forwarded, remote, expected, proxies):
    proxies(count)
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)
    assert client_address(request) == expected
    assert BaseThrottle().get_ident(request) == expected


def test_a_blank_forwarded_for_means_the_connection(proxies):
    # DRF would answer "" here; a proxy that appends never sends a blank header, so only
    # the reporters' identity meets this, and REMOTE_ADDR is the better answer.
    proxies(1)
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=" ")
    assert client_address(request) == "203.0.113.5"


def test_spoofed_forwarded_for_headers_do_not_escape_the_predict_limit(db, predict_limit):
    # No proxy configured (the default): 60 requests, each claiming another address.
    codes = [_predict("203.0.113.7", f"198.51.100.{i}") for i in range(60)]
    assert sum(code != 429 for code in codes) == 20


def test_behind_one_proxy_each_client_has_its_own_predict_budget(db, predict_limit, proxies):
    proxies(1)
    first = [_predict(PROXY, f"6.6.6.{i}, 198.51.100.1") for i in range(21)]  # varying the spoofable part
    assert sum(code != 429 for code in first) == 20 and first[-1] == 429
    assert _predict(PROXY, "198.51.100.2") != 429  # someone else behind the same proxy


def _report_via_api(remote: str, forwarded: str, content_id: int) -> int:
    client = Client(REMOTE_ADDR=remote)
    url = reverse("api-content-reports", args=[content_id])
    return client.post(url, {}, content_type="application/json", HTTP_X_FORWARDED_FOR=forwarded).status_code


def test_behind_one_proxy_anonymous_reporters_are_told_apart(tags, proxies):
    proxies(1)
    content = make_content(current_tag=tags["mlops"])
    assert _report_via_api(PROXY, "198.51.100.1", content.pk) == 201
    assert _report_via_api(PROXY, "198.51.100.2", content.pk) == 201  # another person, same proxy
    assert _report_via_api(PROXY, "6.6.6.6, 198.51.100.1", content.pk) == 200  # the first again
    assert WrongTagReport.objects.filter(content=content).count() == 2


def test_without_a_proxy_a_forged_header_makes_no_new_reporter(tags):
    content = make_content(current_tag=tags["mlops"])
    codes = [_report_via_api("203.0.113.9", f"198.51.100.{i}", content.pk) for i in range(3)]
    assert codes == [201, 200, 200]
    assert WrongTagReport.objects.filter(content=content).count() == 1
