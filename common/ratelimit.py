"""Fixed-window rate limits on the shared cache: one atomic counter per client and window.

A window's counter is a single integer that expires with its window, so checking a limit
costs one Redis round trip whatever the request rate (DRF's own throttles keep a list of
every timestamp of the last period and rewrite it on each request: their cost grows with
the rate they are meant to limit). The price of a fixed window is that a client may send
up to twice its limit across a window boundary; for a budget per minute that is fine.
"""

import time

from django.core.cache import cache

# By the period's first letter, as DRF reads its rates ("6000/minute", "30/h", "5/sec").
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/hour' -> (30, 3600); a rate that does not parse is an error naming it."""
    count, _, period = rate.partition("/")
    try:
        return int(count), PERIODS[period.strip().lower()[0]]
    except (KeyError, ValueError, IndexError):
        raise ValueError(f"rate {rate!r} is not '<count>/<second|minute|hour|day>'") from None


def retry_after(*, scope: str, identity: str, rate: str) -> int | None:
    """Count one hit; the seconds to wait if the limit is exceeded, else None.

    When the cache cannot count (Redis down), the hit is let through: the cache fails open.
    """
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    hits = count_hit(f"ratelimit:{scope}:{identity}:{window}", period=period)
    if hits is None or hits <= limit:
        return None
    return max(1, period - int(now) % period)


def count_hit(key: str, *, period: int) -> int | None:
    """Add one to ``key``'s counter, made to expire after ``period`` s; the new count (None: not counted)."""
    counter = getattr(cache, "count_hit", None)
    if counter is not None:  # Redis (config.cache): INCR and EXPIRE in one round trip
        return counter(key, timeout=period)
    # Other backends: add() is atomic, so only the first hit of a window creates the counter.
    cache.add(key, 0, timeout=period)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: start again
        cache.set(key, 1, timeout=period)
        return 1
