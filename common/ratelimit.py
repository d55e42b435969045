"""Fixed-window rate limits on the shared cache: one atomic counter per client and window.

A window's counter is a single integer that expires with its window, so checking a limit
costs one Redis round trip whatever the request rate (DRF's own throttles keep a list of
every timestamp of the last period and rewrite it on each request: their cost grows with
the rate they are meant to limit). The price of a fixed window is that a client may send
up to twice its limit across a window boundary; for a budget per minute that is fine.

A large limit (6000/minute for predict) is not counted one hit at a time: a process claims a
hundredth of it from the shared counter and lets that many of the client's requests through
on its own, so Redis is asked once per claim instead of on every request. A client can then be
refused up to (processes x a hundredth) early, when other processes hold claims it has not
used; limits under 200 are counted hit by hit, exactly.
"""

import threading
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
    key = f"ratelimit:{scope}:{identity}:{int(now // period)}"
    if _take_claimed(key):
        return None
    claim = max(1, limit // CLAIM_SHARE)
    hits = count_hit(key, period=period, amount=claim)
    if hits is None:
        return None
    granted = min(claim, limit - (hits - claim))  # a claim may straddle the limit
    if granted >= 1:
        _keep_claimed(key, granted - 1)  # this request takes one
        return None
    return max(1, period - int(now) % period)


def count_hit(key: str, *, period: int, amount: int = 1) -> int | None:
    """Add ``amount`` to ``key``'s counter, made to expire after ``period`` s; the new count (None: not counted)."""
    counter = getattr(cache, "count_hit", None)
    if counter is not None:  # Redis (config.cache): INCRBY and EXPIRE in one round trip
        return counter(key, timeout=period, amount=amount)
    # Other backends: add() is atomic, so only the first hit of a window creates the counter.
    cache.add(key, 0, timeout=period)
    try:
        return cache.incr(key, amount)
    except ValueError:  # expired between add and incr: start again
        cache.set(key, amount, timeout=period)
        return amount


# The share of a limit a process claims at once, and the claims it holds: counter key -> hits
# it may still let through. Keys of past windows are dropped wholesale once there are many.
CLAIM_SHARE = 100
MAX_CLAIMS = 10_000
_claims: dict[str, int] = {}
_claims_lock = threading.Lock()


def _take_claimed(key: str) -> bool:
    with _claims_lock:
        left = _claims.get(key, 0)
        if left > 0:
            _claims[key] = left - 1
        return left > 0


def _keep_claimed(key: str, hits: int) -> None:
    with _claims_lock:
        if len(_claims) >= MAX_CLAIMS:
            _claims.clear()
        if hits > 0:
            _claims[key] = _claims.get(key, 0) + hits


def forget_claims() -> None:
    """Drop this process's unused claims (tests; a fresh process starts with none)."""
    with _claims_lock:
        _claims.clear()
