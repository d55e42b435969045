"""The cache: where it lives (shared on Redis when configured), and that an unreachable Redis is a miss, not a 500."""

import logging
import time

import pytest
from django.core.cache import cache

from config.cache import FailOpenRedisCache, NoCacheDatabase, cache_url_beside_broker, caches_setting
from labeling.ratelimit import retry_after
from tests.faults.processes import PrivateRedis, free_port


def test_the_embedded_default_is_per_process_memory():
    config = caches_setting(cache_url="", redis_url="", key_prefix="tagloop")["default"]
    assert config["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert config["KEY_PREFIX"] == "tagloop"


def test_with_a_broker_on_redis_the_cache_is_shared_on_the_next_database():
    config = caches_setting(cache_url="", redis_url="redis://10.0.0.5:6379/0", key_prefix="tagloop")["default"]
    assert config["BACKEND"] == "config.cache.FailOpenRedisCache"
    assert config["LOCATION"] == "redis://10.0.0.5:6379/1"


def test_cache_url_wins_and_keeps_its_options():
    config = caches_setting(
        cache_url="redis://cache:6379/7?socket_timeout=2", redis_url="redis://broker:6379/0", key_prefix="p"
    )["default"]
    assert config["LOCATION"] == "redis://cache:6379/7" and config["OPTIONS"] == {"socket_timeout": 2}
    assert config["BACKEND"] == "config.cache.FailOpenRedisCache"
    local = caches_setting(cache_url="locmemcache://", redis_url="redis://broker:6379/0", key_prefix="p")["default"]
    assert local["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    ("broker", "cache_url"),
    [
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"),
        ("redis://:secret@h:6379/3", "redis://:secret@h:6379/4"),
        ("rediss://h:6380/0?ssl_cert_reqs=none", "rediss://h:6380/1?ssl_cert_reqs=none"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock?db=1"),
        ("unix:///run/redis.sock?db=2", "unix:///run/redis.sock?db=3"),
    ],
)
def test_the_cache_database_is_the_brokers_plus_one(broker, cache_url):
    assert cache_url_beside_broker(broker) == cache_url


@pytest.mark.parametrize(
    "broker", ["redis://h:6379/15", "rediss://:secret@h:6380/15?ssl_cert_reqs=none", "unix:///run/redis.sock?db=15"]
)
def test_a_broker_on_the_last_database_leaves_none_for_the_cache_and_says_to_set_cache_url(broker):
    with pytest.raises(NoCacheDatabase, match=r"database 15: .* 16, .* 0 to 15\. Set CACHE_URL") as refused:
        caches_setting(cache_url="", redis_url=broker, key_prefix="p")
    assert "secret" not in str(refused.value)
    assert cache_url_beside_broker("redis://h:6379/14") == "redis://h:6379/15"  # the last database is still one
    # With CACHE_URL the broker's database does not matter.
    chosen = caches_setting(cache_url="redis://h:6379/14", redis_url=broker, key_prefix="p")["default"]
    assert chosen["LOCATION"] == "redis://h:6379/14"


def test_the_server_refuses_to_start_on_such_a_broker_and_starts_with_cache_url(tmp_path):
    from tests.test_production_settings import _environment, _manage

    refused = _manage(_environment(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15"), "check")
    assert refused.returncode != 0 and "Set CACHE_URL" in refused.stderr
    started = _manage(
        _environment(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15", CACHE_URL="redis://127.0.0.1:6379/14"), "check"
    )
    assert started.returncode == 0, started.stderr


def _unreachable_cache() -> FailOpenRedisCache:
    """A cache on a loopback port nobody listens on: every connection is refused."""
    return FailOpenRedisCache(f"redis://127.0.0.1:{free_port()}/0", {"KEY_PREFIX": "t"})


def test_an_unreachable_redis_is_a_miss_for_every_call_and_raises_nothing():
    dead = _unreachable_cache()
    assert dead.get("k", "default") == "default"
    assert dead.get_many(["a", "b"]) == {}
    assert dead.add("k", 1) is False
    assert dead.set("k", 1) is None
    assert dead.has_key("k") is False
    assert dead.delete("k") is False
    assert dead.touch("k") is False
    assert dead.set_many({"a": 1}) == []
    dead.delete_many(["a", "b"])
    assert dead.clear() is False
    with pytest.raises(ValueError):
        dead.incr("k")  # as for a missing key
    assert dead.get_or_set("report", lambda: "computed") == "computed"


def test_an_unreachable_redis_costs_microseconds_and_one_warning(caplog):
    dead = _unreachable_cache()
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        start = time.perf_counter()
        for index in range(300):
            dead.get(f"k{index}")
        elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"300 calls on a dead Redis took {elapsed:.2f} s"
    warnings = [record for record in caplog.records if record.name == "config.cache"]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()


def test_rate_limits_fail_open_when_the_cache_is_unreachable(settings):
    assert retry_after(scope="t", identity="x", rate="1/min") is None
    assert retry_after(scope="t", identity="x", rate="1/min") is not None  # a working cache counts
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    assert [retry_after(scope="t", identity="x", rate="1/min") for _ in range(3)] == [None, None, None]


def test_clear_deletes_this_caches_keys_and_nothing_else(tmp_path):
    redis = PrivateRedis(tmp_path)
    try:
        redis.start()
        ours = FailOpenRedisCache(redis.url(0), {"KEY_PREFIX": "run-a"})
        theirs = FailOpenRedisCache(redis.url(0), {"KEY_PREFIX": "run-b"})
        glob_like = FailOpenRedisCache(redis.url(0), {"KEY_PREFIX": "run-*"})  # a prefix that is a glob
        ours.set("k", 1)
        ours.set("k", 2, version=2)
        theirs.set("k", 3)
        glob_like.set("k", 4)
        client = ours._cache.get_client(None, write=True)
        client.set("foreign", "not tagloop's")

        glob_like.clear()
        assert ours.get("k") == 1 and theirs.get("k") == 3 and glob_like.get("k") is None
        assert ours.clear() is True
        assert ours.get("k") is None and ours.get("k", version=2) is None
        assert theirs.get("k") == 3 and client.get("foreign") == b"not tagloop's"
    finally:
        redis.stop()


def test_the_test_run_has_a_prefix_of_its_own():
    """The autouse clear() in conftest must never reach keys outside this run."""
    assert cache.key_prefix.startswith("tagloop-test-")
