"""The cache: shared on Redis once Redis is configured, and failing open when Redis is down.

What tagloop keeps in the cache (rate-limit counters, the report budget, the quality
report) is worth less than an answer: with Redis down, rate limits let requests through
and cached values are recomputed, and the API keeps answering instead of raising 500s.

Two more guards, because a cache database is often shared:

- keys carry a prefix, and ``clear()`` deletes only keys under it (never ``FLUSHDB``), so
  clearing tagloop's cache never empties another program's (or another test run's) keys;
- sockets time out after a fraction of a second, and once Redis failed it is left alone
  for a moment, so a dead or unreachable Redis costs a request microseconds, not seconds.
"""

import logging
import threading
import time
from functools import partial
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import environ
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

DJANGO_REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
FAIL_OPEN_BACKEND = "config.cache.FailOpenRedisCache"
# A cache answers in well under a millisecond on a healthy network; waiting longer only
# turns a Redis outage into slow requests. CACHE_URL may override them (?socket_timeout=2).
SOCKET_TIMEOUT_SECONDS = 0.25
# After a failure, calls skip Redis (and count as misses) for this long: a request makes
# several cache calls and must not pay a connect attempt for each. Also how soon a
# restarted Redis is used again.
SKIP_AFTER_FAILURE_SECONDS = 1.0
# At most one "cache unavailable" warning per process in this many seconds.
WARN_EVERY_SECONDS = 60.0

# A default Redis has databases 0 to 15 ("databases 16" in redis.conf).
REDIS_DATABASES = 16

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)  # BusyLoadingError (a restart) is a ConnectionError


class NoCacheDatabase(ImproperlyConfigured):
    """REDIS_URL leaves no database after the broker's for the cache, and CACHE_URL is not set."""


def caches_setting(*, cache_url: str, redis_url: str, key_prefix: str) -> dict:
    """The CACHES setting: ``cache_url`` if given, else Redis beside the broker, else per-process memory."""
    url = cache_url or (redis_url and cache_url_beside_broker(redis_url)) or "locmemcache://"
    config = environ.Env.cache_url_config(url)
    if config["BACKEND"] == DJANGO_REDIS_BACKEND:
        config["BACKEND"] = FAIL_OPEN_BACKEND
    config.setdefault("KEY_PREFIX", key_prefix)
    return {"default": config}


def cache_url_beside_broker(redis_url: str) -> str:
    """The broker's Redis with the next database number: redis://h:6379/0 -> redis://h:6379/1.

    A database of its own keeps cache keys out of the broker's queues (and a cache
    eviction policy away from queued tasks).  A broker on a default Redis's last database
    has no next one: refused at start-up, not a cache whose every call raises ("DB index is out of range").
    """
    parts = urlsplit(redis_url)
    query = dict(parse_qsl(parts.query))
    socket = parts.scheme == "unix" or "db" in query  # a socket's path is a file: the database is in the query
    database = int(query.get("db", 0)) if socket else int(parts.path.strip("/") or 0)
    if database + 1 >= REDIS_DATABASES:
        raise NoCacheDatabase(
            f"REDIS_URL names Redis database {database}: the cache would take the next one, {database + 1}, "
            f"and a default Redis has only databases 0 to {REDIS_DATABASES - 1}. Set CACHE_URL to a database of "
            f"the cache's own (e.g. redis://<host>:6379/{database - 1}), or put the broker on a lower database."
        )
    if socket:
        query["db"] = str(database + 1)
        return redis_url.partition("?")[0] + "?" + urlencode(query)
    return urlunsplit(parts._replace(path=f"/{database + 1}"))


class _Outage:
    """Per-process state of one Redis location, shared by the threads' cache instances."""

    def __init__(self, location: str):
        self.location = location
        self.lock = threading.Lock()
        self.skip_until = 0.0
        self.warned_at = float("-inf")
        self.failures_since_warning = 0
        self.down = False

    def skipping(self) -> bool:
        return time.monotonic() < self.skip_until

    def failed(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            self.skip_until = now + SKIP_AFTER_FAILURE_SECONDS
            self.down = True
            self.failures_since_warning += 1
            if now - self.warned_at < WARN_EVERY_SECONDS:
                return
            failures, self.failures_since_warning, self.warned_at = self.failures_since_warning, 0, now
        logger.warning(
            "cache at %s unavailable (%s on %s: %s); rate limits let requests through and cached values "
            "are recomputed until it is back (%d failed call(s) since the last warning)",
            self.location,
            type(error).__name__,
            operation,
            error,
            failures,
        )

    def succeeded(self) -> None:
        if not self.down:
            return
        with self.lock:
            was_down, self.down = self.down, False
        if was_down:
            logger.warning("cache at %s is back", self.location)


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(location: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(location, _Outage(location))


class FailOpenRedisCacheClient(RedisCacheClient):
    """Django's Redis client whose calls, while Redis is unreachable, behave as misses and no-ops.

    A miss is what every caller already handles: ``get`` returns the default, ``add`` and
    ``set`` store nothing, ``incr`` raises ValueError as for a missing key. Errors other
    than an unreachable server (a wrong command, an out-of-memory Redis) still raise.
    """

    def __init__(self, servers, *, outage: _Outage, **options):
        super().__init__(servers, **options)
        self._outage = outage

    def _guarded(self, operation: str, call, fallback):
        if self._outage.skipping():
            return fallback()
        try:
            result = call()
        except UNREACHABLE as error:
            self._outage.failed(operation, error)
            return fallback()
        self._outage.succeeded()
        return result

    def add(self, key, value, timeout):
        return self._guarded("add", partial(super().add, key, value, timeout), _false)

    def get(self, key, default):
        return self._guarded("get", partial(super().get, key, default), lambda: default)

    def set(self, key, value, timeout):
        return self._guarded("set", partial(super().set, key, value, timeout), _none)

    def touch(self, key, timeout):
        return self._guarded("touch", partial(super().touch, key, timeout), _false)

    def delete(self, key):
        return self._guarded("delete", partial(super().delete, key), _false)

    def get_many(self, keys):
        return self._guarded("get_many", partial(super().get_many, keys), dict)

    def has_key(self, key):
        return self._guarded("has_key", partial(super().has_key, key), _false)

    def incr(self, key, delta):
        def missing():
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")

        return self._guarded("incr", partial(super().incr, key, delta), missing)

    def count_hit(self, key, timeout: int, amount: int = 1) -> int | None:
        """INCRBY ``key`` and give it ``timeout`` s to live if it has none yet, in one round trip."""

        def incr_and_expire() -> int:
            pipe = self.get_client(key, write=True).pipeline(transaction=False)
            pipe.incr(key, amount)
            pipe.expire(key, timeout, nx=True)  # only the window's first hit sets its end
            return int(pipe.execute()[0])

        return self._guarded("count_hit", incr_and_expire, _none)

    def set_many(self, data, timeout):
        return self._guarded("set_many", partial(super().set_many, data, timeout), _none)

    def delete_many(self, keys):
        return self._guarded("delete_many", partial(super().delete_many, keys), _none)

    def clear_matching(self, pattern: str) -> bool:
        """Delete the keys matching a glob ``pattern``, in batches (SCAN never blocks Redis as KEYS would)."""
        return self._guarded("clear", partial(self._unlink_matching, pattern), _false)

    def clear(self):
        raise NotImplementedError("FLUSHDB would empty a shared database; FailOpenRedisCache clears by prefix")

    def _unlink_matching(self, pattern: str) -> bool:
        client = self.get_client(None, write=True)
        batch = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)
        return True


def _false() -> bool:
    return False


def _none() -> None:
    return None


class FailOpenRedisCache(RedisCache):
    """RedisCache on a FailOpenRedisCacheClient, with short socket timeouts and a clear() by prefix."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._options = {
            "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS,
            "socket_timeout": SOCKET_TIMEOUT_SECONDS,
            **self._options,
        }
        # Django makes one cache object per thread; what Redis's health is, they share.
        self._outage = _outage_for(",".join(self._servers))

    @cached_property
    def _cache(self):
        return FailOpenRedisCacheClient(self._servers, outage=self._outage, **self._options)

    def count_hit(self, key: str, *, timeout: int, amount: int = 1, version=None) -> int | None:
        """A rate-limit counter's hits (common.ratelimit): the new count, None while Redis is unreachable."""
        return self._cache.count_hit(self.make_and_validate_key(key, version=version), timeout, amount)

    def clear(self):
        """Delete this cache's keys (those under its prefix), not the whole Redis database."""
        # Django's key function makes "<prefix>:<version>:<key>"; glob characters in the prefix are escaped.
        prefix = "".join(f"\\{c}" if c in "*?[]\\" else c for c in self.key_prefix)
        return self._cache.clear_matching(prefix + ":*")
