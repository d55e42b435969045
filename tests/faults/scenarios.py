"""Faults, each played once on a site: what happened, with its timeline.

A scenario breaks one service (under a light request loop, or while an admin and a
client act), keeps it broken for a while, brings it back and waits until everything is
normal again or all the work is done, recording every answer and what the database
says. The fault tests assert on the ``Outcome``; ``make bench-faults``
(benchmarks/bench_faults.py) plays each one three times and reports the medians. A new
fault is one more function of this shape.
"""

import time
from dataclasses import dataclass, field

import redis

from tests.faults import facts
from tests.faults.processes import CeleryWorker, PrivatePostgres, PrivateRedis, WebServer, pid_alive, wait_for
from tests.faults.seed import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.faults.site import Site
from tests.faults.traffic import AdminSession, Answer, Loop, Traffic, first_all_normal

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
    private = _needed(site.cache, "cache")
    web = site.web()
    traffic = _traffic(site, web.base_url)
    _warm(traffic)
    cache = redis.Redis.from_url(private.url(0))
    names = {call.name for call in traffic.round()}
    with Loop(
        traffic, pause=PAUSE, max_seconds=outage_seconds + SETTLE_TIMEOUT + 10, max_requests=MAX_REQUESTS
    ) as loop:
        time.sleep(1)
        counted_before = bool(cache.keys("tagloop:*"))
        private.kill()
        fault_at = time.monotonic()
        time.sleep(outage_seconds)
        restart_at = time.monotonic()
        private.start()  # the same port, empty
        back_at = time.monotonic()
        recovered_at = _wait_quietly(
            lambda: cache.keys("tagloop:*") and first_all_normal(loop.since(back_at), names) and time.monotonic()
        )
        time.sleep(0.5)
    log = web.log_path.read_text()
    return Outcome(
        loop.answers,
        fault_at,
        restart_at,
        back_at,
        recovered_at,
        notes={
            "counted before": counted_before,
            "warned": "unavailable" in log,
            "logged back": "is back" in log,
        },
    )


def database_stopped(site: Site, postgres: PrivatePostgres, *, outage_seconds: float = 10) -> Outcome:
    """PostgreSQL is stopped (``pg_ctl stop -m fast``: every session ends) and started again after ``outage_seconds``."""
    web = site.web()
    traffic = _traffic(site, web.base_url)
    _warm(traffic)
    names = {call.name for call in traffic.round()}
    with Loop(
        traffic, pause=PAUSE, max_seconds=outage_seconds + SETTLE_TIMEOUT + 10, max_requests=MAX_REQUESTS
    ) as loop:
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


def _setting(site: Site, name: str, default: float) -> float:
    return float(site.env.get(name, default))


def _wait_quietly(predicate) -> float | None:
    """The predicate's value once truthy, or None after SETTLE_TIMEOUT (the caller reports it)."""
    try:
        return wait_for(predicate, timeout=SETTLE_TIMEOUT, what="recovery", interval=0.1)
    except TimeoutError:
        return None


# --- workers and the broker (durable work: predictions.services.jobs and .reconciler) ----------
# These run one after another on one site if asked (its web server and worker are reused,
# restarted if a fault left them dead); each starts once the site has no unfinished work.


def _ready(site: Site) -> tuple[WebServer, CeleryWorker, AdminSession]:
    if site.broker and not site.broker.running:
        site.broker.start()
    web, worker = site.running_web(), site.running_worker()
    wait_for(lambda: facts.unfinished_jobs(site) == 0, timeout=SETTLE_TIMEOUT, what="the site idle", interval=0.2)
    return web, worker, AdminSession(web.base_url, username=ADMIN_USERNAME, password=ADMIN_PASSWORD)


def _wait_training(site: Site, number: int, *, past: int = 10) -> None:
    """Until version ``number`` is training beyond ``past`` percent: the kill lands mid-run."""

    def mid_run():
        state = facts.version_state(site, number)
        if state and state[0] not in ("queued", "training"):
            raise RuntimeError(f"v{number} is {state[0]} before the fault could hit it: the run was too short")
        return state and state[0] == "training" and state[1] >= past

    wait_for(mid_run, timeout=SETTLE_TIMEOUT, what=f"v{number} training", interval=0.02)


def _needed(piece: PrivateRedis | None, what: str) -> PrivateRedis:
    """The site's own Redis for ``what``: the scenario kills and restarts it, so the site must have been given one."""
    if piece is None:
        raise RuntimeError(f"this scenario needs a site with its own {what}")
    return piece


def _finished(site: Site, number: int) -> bool:
    """The retrain is over: the version trained (or failed) and its job recorded as finished."""
    state = facts.version_state(site, number)
    if state is None:
        raise RuntimeError(f"v{number} does not exist")
    return state[0] in ("candidate", "failed") and all(
        status in ("done", "failed") for _, status, _ in facts.jobs(site, number=number, kind="train")
    )


def _retrain_notes(site: Site, number: int) -> dict:
    return {
        "version": number,
        "state": facts.version_state(site, number),
        "train jobs": facts.jobs(site, number=number, kind="train"),
        "newest version": facts.newest_version(site),
    }


def retrain_pool_process_killed(site: Site) -> Outcome:
    """The pool process running a retrain is SIGKILLed (an OOM kill); the worker forks a new one at once.

    Recovery: the version is a candidate. The run must be taken over (the dead run's
    heartbeat goes stale) and finish once.
    """
    _, worker, admin = _ready(site)
    answer = admin.retrain()
    number = facts.newest_version(site)
    _wait_training(site, number)
    worker.kill_child()
    fault_at = restart_at = back_at = time.monotonic()  # the main process lives on and forks a new pool process
    recovered_at = _wait_quietly(lambda: _finished(site, number) and time.monotonic())
    return Outcome(
        [answer],
        fault_at,
        restart_at,
        back_at,
        recovered_at,
        notes={"retrain answer": answer, **_retrain_notes(site, number)},
    )


def retrain_worker_killed(site: Site, *, down_seconds: float = 3) -> Outcome:
    """The whole worker (main process, pool, embedded beat) is SIGKILLed mid-retrain and restarted after a while.

    Recovery: from the worker being ready again to the version being a candidate.
    """
    _, worker, admin = _ready(site)
    answer = admin.retrain()
    number = facts.newest_version(site)
    _wait_training(site, number)
    pids = [worker.pid, *worker.children()]
    worker.kill()
    fault_at = time.monotonic()
    survivors = [pid for pid in pids if pid_alive(pid)]
    time.sleep(down_seconds)
    restart_at = time.monotonic()
    worker.start()
    back_at = time.monotonic()
    recovered_at = _wait_quietly(lambda: _finished(site, number) and time.monotonic())
    return Outcome(
        [answer],
        fault_at,
        restart_at,
        back_at,
        recovered_at,
        notes={
            "retrain answer": answer,
            "killed processes": len(pids),
            "survivors": survivors,
            **_retrain_notes(site, number),
        },
    )


def repredict_worker_killed(site: Site, *, down_seconds: float = 3) -> Outcome:
    """After a promotion, the whole worker is SIGKILLed while re-predicting, and restarted after a while.

    Recovery: from the worker being ready to every item predicted by the new active model
    and no job left unfinished.
    """
    _, worker, admin = _ready(site)
    number, total = facts.newest_candidate(site), facts.content_count(site)
    answer = admin.promote(number)

    def part_done():
        done = facts.predictions_by(site, number)
        if done >= total:
            raise RuntimeError("the re-prediction finished before the fault could hit it: use smaller chunks")
        return done > 0

    wait_for(part_done, timeout=SETTLE_TIMEOUT, what=f"v{number} predicting", interval=0.02)
    worker.kill()
    fault_at = time.monotonic()
    done_at_kill = facts.predictions_by(site, number)
    time.sleep(down_seconds)
    restart_at = time.monotonic()
    worker.start()
    back_at = time.monotonic()
    recovered_at = _wait_quietly(
        lambda: facts.lacking_prediction(site, number) == 0 and facts.unfinished_jobs(site) == 0 and time.monotonic()
    )
    return Outcome(
        [answer],
        fault_at,
        restart_at,
        back_at,
        recovered_at,
        notes={
            "promote answer": answer,
            "version": number,
            "items": total,
            "predicted at the kill": done_at_kill,
            "lacking": facts.lacking_prediction(site, number),
            "predictions": facts.predictions_by(site, number),
            "active": facts.active_versions(site),
            "unfinished jobs": facts.unfinished_jobs(site),
        },
    )


def broker_killed_with_work_queued(site: Site, *, down_seconds: float = 3) -> Outcome:
    """Redis (the broker) is ``kill -9``ed while a promotion's re-prediction and a retrain wait in its queue.

    The restarted Redis is empty: the messages are gone. Recovery: from Redis back to
    every item predicted by the new active model, the retrain finished, nothing
    unfinished, and /healthz answering 200 again. Health is sampled throughout.
    """
    broker = _needed(site.broker, "broker")
    web, worker, admin = _ready(site)
    number = facts.newest_candidate(site)
    promoted = admin.promote(number)
    retrained = admin.retrain()
    retrain_number = facts.newest_version(site)
    queued = facts.unfinished_jobs(site)
    broker.kill()
    fault_at = time.monotonic()
    samples = []
    # Past this age a pending job counts as stalled (predictions.selectors.job_is_stalled: the
    # reconciler's grace and two of its rounds); one second more for the time between reads.
    stall_bound = (
        _setting(site, "TAGLOOP_DISPATCH_GRACE_SECONDS", 20)
        + 2 * _setting(site, "TAGLOOP_RECONCILE_EVERY_SECONDS", 10)
        + 1
    )

    def sample() -> dict:
        code, body = facts.health(web.base_url)
        # Read after health: a job pending now was pending when health looked (nothing goes back to pending).
        samples.append(
            {
                "at": round(time.monotonic() - fault_at, 1),
                "code": code,
                "failed": body.get("failed"),
                "stalled": [entry["kind"] for entry in body.get("stalled", [])],
                "stalled pending jobs": facts.pending_older_than(site, stall_bound),
            }
        )
        return samples[-1]

    sample()
    time.sleep(down_seconds)
    restart_at = time.monotonic()
    broker.start()  # the same port, empty
    back_at = time.monotonic()

    def all_done():
        done = (
            sample()["code"] == 200
            and facts.lacking_prediction(site, number) == 0
            and facts.unfinished_jobs(site) == 0
            and _finished(site, retrain_number)
        )
        return done and time.monotonic()

    recovered_at = _wait_quietly(all_done)
    worker_log = worker.log_path.read_text()
    return Outcome(
        [promoted, retrained],
        fault_at,
        restart_at,
        back_at,
        recovered_at,
        notes={
            "promote answer": promoted,
            "retrain answer": retrained,
            "version": number,
            "retrain version": retrain_number,
            "unfinished at the kill": queued,
            "lacking": facts.lacking_prediction(site, number),
            "retrain": _retrain_notes(site, retrain_number),
            "active": facts.active_versions(site),
            "health": samples,
            "reconciler resent": "job(s) again" in worker_log,
        },
    )


def broker_down_during_actions(site: Site, *, down_seconds: float = 5) -> Outcome:
    """Redis (the broker) is down while an admin clicks Retrain and a client ingests three items.

    Both must answer as usual (the work is recorded and waits for the broker), never 500.
    Recovery: from Redis back to the retrain finished and the items predicted.
    """
    broker = _needed(site.broker, "broker")
    web, _, admin = _ready(site)
    traffic = _traffic(site, web.base_url)
    active = facts.active_versions(site)[0]
    broker.kill()
    fault_at = time.monotonic()
    retrained = admin.retrain()
    number = facts.newest_version(site)
    [ingest] = [call for call in traffic.round() if call.name == "ingest"]
    ingested = traffic.send(ingest)
    time.sleep(max(0.0, down_seconds - (time.monotonic() - fault_at)))
    restart_at = time.monotonic()
    broker.start()
    back_at = time.monotonic()
    ids = ", ".join(f"'{item_id}'" for item_id in ingest.ingest_ids)
    predicted = (
        "SELECT count(*) FROM predictions_prediction p JOIN labeling_content c ON c.id = p.content_id "
        f"JOIN predictions_modelversion v ON v.id = p.model_version_id WHERE v.number = {active} "
        f"AND c.external_id IN ({ids})"
    )
    recovered_at = _wait_quietly(
        lambda: _finished(site, number) and site.value(predicted) == len(ingest.ingest_ids) and time.monotonic()
    )
    return Outcome(
        [retrained, ingested],
        fault_at,
        restart_at,
        back_at,
        recovered_at,
        notes={
            "retrain answer": retrained,
            "ingest": ingested,
            "retrain": _retrain_notes(site, number),
            "items predicted": site.value(predicted),
            "items stored": site.value(f"SELECT count(*) FROM labeling_content WHERE external_id IN ({ids})"),
        },
    )
