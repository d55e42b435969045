"""Failed logins are counted per username and client address; too many lock that pair out.

All three ways in (the login page, the admin's login page, HTTP Basic on the API) call
``authenticate_throttled``, so failures on one count on the others. While a pair is
locked out even the right password is refused, without being checked: a guesser learns
nothing, and the wait is the same for a username that does not exist (no enumeration).
A success resets the count. Counting per pair, not per username, keeps an attacker from
locking a real user out from elsewhere.

The counters live in the cache, shared by every web process once it is Redis. If the
cache cannot be reached, logins are not throttled rather than refused (logged): an
outage of the cache must not lock the whole team out.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache

from labeling.clients import client_address

logger = logging.getLogger(__name__)


class LoginLocked(Exception):
    """Too many failures for this username from this address; ``wait`` seconds left."""

    def __init__(self, wait: int):
        super().__init__(f"locked out for {wait} more seconds")
        self.wait = wait


def _now() -> float:
    return time.time()


def _key(kind: str, username: str, address: str) -> str:
    # Hashed: usernames are free text and cache keys are not.
    pair = hashlib.sha256(f"{username.strip().lower()}\x00{address}".encode()).hexdigest()
    return f"login:{kind}:{pair}"


def lockout_wait(*, username: str, address: str) -> int | None:
    """Seconds this pair must still wait, or None when it may try."""
    until = cache.get(_key("locked", username, address))
    if until is None or until <= _now():
        return None
    return max(1, math.ceil(until - _now()))


def failure_record(*, username: str, address: str) -> None:
    """Count one failure; the last one allowed starts the lockout."""
    key = _key("failures", username, address)
    # add() creates the counter only once: the window runs from the first failure.
    cache.add(key, 0, timeout=settings.TAGLOOP_LOGIN_FAILURE_WINDOW_SECONDS)
    try:
        failures = cache.incr(key)
    except ValueError:  # the counter expired between add and incr
        cache.set(key, 1, timeout=settings.TAGLOOP_LOGIN_FAILURE_WINDOW_SECONDS)
        failures = 1
    if failures >= settings.TAGLOOP_LOGIN_MAX_FAILURES:
        seconds = settings.TAGLOOP_LOGIN_LOCKOUT_SECONDS
        cache.set(_key("locked", username, address), _now() + seconds, timeout=seconds)
        cache.delete(key)  # a fresh count once the lockout is over
        logger.warning(
            "login locked for %s s after %s failures: username %r from %s", seconds, failures, username, address
        )


def failures_reset(*, username: str, address: str) -> None:
    cache.delete(_key("failures", username, address))


def authenticate_throttled(request, *, username: str, password: str):
    """django.contrib.auth.authenticate behind the lockout: the user, None, or LoginLocked."""
    address = client_address(request) if request is not None else ""
    wait = _unless_cache_down(lockout_wait, username=username, address=address)
    if wait:
        raise LoginLocked(wait)
    user = authenticate(request, username=username, password=password)
    _unless_cache_down(failure_record if user is None else failures_reset, username=username, address=address)
    return user


def _unless_cache_down(operation, **kwargs):
    try:
        return operation(**kwargs)
    except Exception:  # noqa: BLE001 - whatever the cache backend raises, logins go on
        logger.exception("login throttling skipped: the cache did not answer")
        return None
