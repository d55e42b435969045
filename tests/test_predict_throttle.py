"""The predict API's rate limit: one fixed-window counter per client on real Redis, 429 + Retry-After."""

import threading
import time

import pytest
import redis
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import ScopedRateThrottle

from common.ratelimit import count_hit, parse_rate, retry_after
from tests.cache_prefix import RUN_PREFIX

REDIS_URL = "redis://127.0.0.1:6379/1"


@pytest.fixture
def on_redis(settings):
    """The cache on the machine's Redis (this run's prefix only), whatever the environment says."""
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": RUN_PREFIX}
    }
    yield redis.Redis.from_url(REDIS_URL)
    cache.clear()


@pytest.fixture
def predict_limit(monkeypatch):
    def limit(rate: str) -> None:
        # DRF's throttles read their rates once, at import; the throttle uses that dict.
        monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "predict", rate)

    return limit


def _predict(remote: str = "203.0.113.9"):
    return Client(REMOTE_ADDR=remote).post(reverse("api-predict"), {"title": "a text"}, content_type="application/json")


def test_over_the_limit_predict_answers_429_with_retry_after(db, on_redis, predict_limit):
    predict_limit("5/minute")
    codes = [_predict().status_code for _ in range(5)]
    assert 429 not in codes  # 503 with no active model: counted, not throttled
    throttled = _predict()
    assert throttled.status_code == 429
    assert throttled["Content-Type"].startswith("application/problem+json")
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert _predict(remote="198.51.100.4").status_code != 429  # another client has its own budget


def test_the_counter_is_one_integer_per_client_and_window_that_expires(db, on_redis, predict_limit):
    predict_limit("100/minute")
    for _ in range(30):
        _predict()
    keys = list(on_redis.scan_iter(match=f"{RUN_PREFIX}:*throttle*"))
    assert len(keys) == 1  # not a list of timestamps: one counter
    [key] = keys
    assert on_redis.type(key) == b"string" and int(on_redis.get(key)) == 30
    assert 0 < on_redis.ttl(key) <= 60


def test_the_window_ends_and_the_client_may_send_again(db, on_redis, predict_limit):
    predict_limit("2/second")
    time.sleep(1 - time.time() % 1)  # start at a window's beginning, so three hits share it
    assert [_predict().status_code == 429 for _ in range(3)] == [False, False, True]
    time.sleep(1.05)
    assert _predict().status_code != 429


def test_concurrent_hits_are_each_counted_once(on_redis):
    # 8 threads x 25 hits on one counter: an increment that read and wrote back would lose some.
    def hit():
        for _ in range(25):
            count_hit("concurrent", period=60)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("concurrent") == 200


def test_exactly_the_limit_passes_under_concurrency(on_redis):
    allowed = []

    def client():
        for _ in range(10):
            allowed.append(retry_after(scope="t", identity="same", rate="37/hour") is None)

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 37


def test_a_rate_that_does_not_parse_names_itself():
    assert parse_rate("6000/minute") == (6000, 60) and parse_rate("5/sec") == (5, 1) and parse_rate("1/d") == (1, 86400)
    with pytest.raises(ValueError, match="'ten/minute'"):
        parse_rate("ten/minute")
    with pytest.raises(ValueError, match="'10/fortnight'"):
        parse_rate("10/fortnight")


def test_a_large_limit_asks_redis_once_per_claim_and_still_stops_at_the_limit(on_redis):
    # 1000/minute: a process claims 10 hits at a time, so 251 hits are 26 claims on the counter.
    allowed = [retry_after(scope="big", identity="x", rate="1000/minute") is None for _ in range(251)]
    [key] = on_redis.scan_iter(match=f"{RUN_PREFIX}:*ratelimit:big:x:*")
    assert all(allowed) and int(on_redis.get(key)) == 260
    allowed += [retry_after(scope="big", identity="x", rate="1000/minute") is None for _ in range(849)]
    assert sum(allowed) == 1000 and allowed[999] and not any(allowed[1000:])


def test_claims_of_other_processes_count_against_the_client(on_redis):
    # Another process holding a claim: its hits are on the shared counter before this one's.
    count_hit(f"ratelimit:big:y:{int(time.time() // 60)}", period=60, amount=995)
    allowed = [retry_after(scope="big", identity="y", rate="1000/minute") is None for _ in range(10)]
    assert sum(allowed) == 5
