"""Faults, each played once on a site under light traffic: what happened, with its timeline.

A scenario breaks one service, keeps it broken for a while, brings it back and waits
until everything is normal again, recording every answer. The fault tests assert on
the ``Outcome``; ``make bench-faults`` (scripts/bench_faults.py) plays each one three
times and reports the medians. A new fault is one more function of this shape.
"""
import time
from dataclasses import dataclass, field

import redis

from tests.faults.processes import PrivatePostgres, wait_for
from tests.faults.site import Site
from tests.faults.traffic import Answer, Loop, Traffic, first_all_normal

# Traffic: one request every PAUSE seconds (about 15 a second with the answers' own time), bounded.
PAUSE = 0.05
MAX_REQUESTS = 3000
SETTLE_TIMEOUT = 60


@dataclass
class Outcome:
    answers: list[Answer]
    fault_at: float  # the fault took effect (time.monotonic())
    restart_at: float  # the broken service was being brought back
    back_at: float  # ... and was back (listening)
    recovered_at: float | None  # everything normal again: answers, and whatever else the fault broke
    notes: dict = field(default_factory=dict)

    @property
    def recovery_seconds(self) -> float | None:
        return None if self.recovered_at is None else max(0.0, self.recovered_at - self.back_at)

    @property
    def server_errors(self) -> list[Answer]:
        return [answer for answer in self.answers if answer.server_error]

    def during(self, *, skip_first: float = 0.0) -> list[Answer]:
        """Answers to requests sent and answered while the service was down (after ``skip_first`` seconds)."""
        start = self.fault_at + skip_first
        return [a for a in self.answers if start <= a.sent_at and a.sent_at + a.seconds <= self.restart_at]


def _traffic(site: Site, base_url: str) -> Traffic:
    return Traffic(base_url, token=site.seed.token, content_ids=site.seed.content_ids)


def _warm(traffic: Traffic) -> None:
    """Two rounds answered normally: each web worker has loaded the model before the clock starts."""
    answers = traffic.send_round() + traffic.send_round()
    abnormal = [answer.describe() for answer in answers if not answer.normal]
    if abnormal:
        raise AssertionError(f"the site does not answer normally before the fault: {abnormal}")


def cache_killed(site: Site, *, outage_seconds: float = 5) -> Outcome:
    """The cache's Redis is killed (``kill -9``) and, after ``outage_seconds``, started again, empty.

    Recovery is the time until every kind of request answers normally and the rate limits
    count in the restarted Redis again.
    """
    web = site.web()
    traffic = _traffic(site, web.base_url)
    _warm(traffic)
    cache = redis.Redis.from_url(site.cache.url(0))
    names = {call.name for call in traffic.round()}
    with Loop(traffic, pause=PAUSE, max_seconds=outage_seconds + SETTLE_TIMEOUT + 10, max_requests=MAX_REQUESTS) as loop:
        time.sleep(1)
        counted_before = bool(cache.keys("tagloop:*"))
        site.cache.kill()
        fault_at = time.monotonic()
        time.sleep(outage_seconds)
        restart_at = time.monotonic()
        site.cache.start()  # the same port, empty
        back_at = time.monotonic()
        recovered_at = _wait_quietly(
            lambda: cache.keys("tagloop:*") and first_all_normal(loop.since(back_at), names) and time.monotonic()
        )
        time.sleep(0.5)
    log = web.log_path.read_text()
    return Outcome(loop.answers, fault_at, restart_at, back_at, recovered_at, notes={
        "counted before": counted_before, "warned": "unavailable" in log, "logged back": "is back" in log,
    })


def database_stopped(site: Site, postgres: PrivatePostgres, *, outage_seconds: float = 10) -> Outcome:
    """PostgreSQL is stopped (``pg_ctl stop -m fast``: every session ends) and started again after ``outage_seconds``."""
    web = site.web()
    traffic = _traffic(site, web.base_url)
    _warm(traffic)
    names = {call.name for call in traffic.round()}
    with Loop(traffic, pause=PAUSE, max_seconds=outage_seconds + SETTLE_TIMEOUT + 10, max_requests=MAX_REQUESTS) as loop:
        time.sleep(1.5)
        postgres.stop()
        fault_at = time.monotonic()
        time.sleep(outage_seconds)
        restart_at = time.monotonic()
        postgres.start()
        back_at = time.monotonic()
        recovered_at = _wait_quietly(lambda: first_all_normal(loop.since(back_at), names))
        time.sleep(1)
    return Outcome(loop.answers, fault_at, restart_at, back_at, recovered_at)


def _wait_quietly(predicate) -> float | None:
    """The predicate's value once truthy, or None after SETTLE_TIMEOUT (the caller reports it)."""
    try:
        return wait_for(predicate, timeout=SETTLE_TIMEOUT, what="recovery", interval=0.1)
    except TimeoutError:
        return None
