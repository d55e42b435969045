"""A fixed-window rate limit on the shared cache, for HTML forms and the API alike."""

import time

from django.conf import settings
from django.core.cache import cache

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/hour' -> (30, 3600)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()]


def retry_after(*, scope: str, identity: str, rate: str) -> int | None:
    """Count one hit; the seconds to wait if the limit is exceeded, else None."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    key = f"ratelimit:{scope}:{identity}:{window}"
    # add() is atomic: only the first hit of a window creates the counter.
    cache.add(key, 0, timeout=period)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add and incr: start again
        cache.set(key, 1, timeout=period)
        hits = 1
    if hits <= limit:
        return None
    return max(1, period - int(time.time()) % period)


def wait_in_words(seconds: int) -> str:
    """How long to wait, for people: seconds up to a minute and a half, then whole minutes."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)  # rounded up: "try again in 46 minutes" must not be too early
    return f"{minutes} minutes"


def report_rate_wait(request) -> int | None:
    """Count one wrong-tag report by this reporter; the seconds to wait if over the limit.

    Called once a report is valid, so a rejected request (unknown item, bad tag)
    costs the reporter nothing.

    One budget per reporter whether they report on the page or through the API: a
    signed-in reporter by account, an anonymous one by the hash of their address.
    """
    from labeling.services import client_address, reporter_hash

    user = request.user
    identity = f"user:{user.pk}" if user.is_authenticated else reporter_hash(client_address(request))
    return retry_after(
        scope="reports", identity=identity, rate=settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["reports"]
    )
