"""Fault benchmark: for each fault, the time from "the service is back" to "answering normally / all work done".

    python -m benchmarks.bench_faults [--runs 3] [--only NAME ...] [--no-write]

Everything runs on private services started here (a PostgreSQL cluster made with initdb,
redis-servers, gunicorn, celery workers), never the machine's shared ones: the scenarios
of tests/faults/scenarios.py, each played ``--runs`` times on a fresh site cloned from
one seeded database. Prints a table (median recovery, each run, server errors, 503s
while down) and rewrites the "## Faults" section of docs/benchmarks.md.

A new fault is a function ``(bench) -> Outcome`` in SCENARIOS below.
"""

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import add_docs_arguments, utc_minute
from benchmarks.markdown_section import replace_section
from tests.faults import scenarios
from tests.faults.processes import PrivatePostgres, PrivateRedis, port_open
from tests.faults.site import FAST_RECOVERY, Site, seed_cluster

TARGET_SECONDS = 60


class Bench:
    """The private cluster and seed shared by all runs, and fresh sites with their own Redis servers."""

    def __init__(self, workdir: Path, *, settings: dict):
        self.workdir, self.settings = workdir, settings
        self.postgres = PrivatePostgres().init()
        try:
            self.postgres.start()
            self.seed = seed_cluster(self.postgres, workdir / "seed")
        except BaseException:
            self.postgres.destroy()  # nobody would call close() on a bench that never was
            raise
        self._redis: list[PrivateRedis] = []
        self._sites: list[Site] = []

    def redis(self) -> PrivateRedis:
        redis = PrivateRedis(self.workdir / "redis")
        self._redis.append(redis)  # before start(): end_run() stops one that never got ready
        return redis.start()

    def site(self, *, cache: bool = False) -> Site:
        site = Site(
            postgres=self.postgres,
            seed=self.seed,
            workdir=self.workdir,
            broker=self.redis(),
            cache=self.redis() if cache else None,
            settings=self.settings,
        )
        self._sites.append(site)
        return site

    def end_run(self) -> None:
        """Stop the run's processes and drop its database: every run starts from the seed."""
        for site in self._sites:
            site.close()
            if not port_open(self.postgres.port):  # a run that failed mid-outage
                self.postgres.start()
            self.postgres.sql(f'DROP DATABASE IF EXISTS "{site.database}" WITH (FORCE)')
        for redis in self._redis:
            redis.stop()
        self._sites.clear()
        self._redis.clear()

    def close(self) -> None:
        try:
            self.end_run()
        finally:
            self.postgres.destroy()


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str  # the fault and what "recovered" means, for the table
    play: Callable[[Bench], scenarios.Outcome]


SCENARIOS = [
    Scenario(
        "cache-down",
        "cache Redis `kill -9`, 5 s, restarted empty; normal = rate limits count in Redis again",
        lambda bench: scenarios.cache_killed(bench.site(cache=True), outage_seconds=5),
    ),
    Scenario(
        "database-down",
        "PostgreSQL stopped (`pg_ctl stop -m fast`) 10 s; normal = every request answered as usual",
        lambda bench: scenarios.database_stopped(bench.site(), bench.postgres, outage_seconds=10),
    ),
    Scenario(
        "retrain-pool-killed",
        "the pool process running a retrain SIGKILLed (the worker forks a new one at "
        "once); done = the version a candidate, its job done",
        lambda bench: scenarios.retrain_pool_process_killed(bench.site()),
    ),
    Scenario(
        "retrain-worker-killed",
        "the whole worker SIGKILLed mid-retrain, restarted 3 s later; done = the version a candidate, its job done",
        lambda bench: scenarios.retrain_worker_killed(bench.site()),
    ),
    Scenario(
        "repredict-worker-killed",
        "the whole worker SIGKILLed mid re-prediction after a promotion, restarted "
        "3 s later; done = every item predicted by the active model, no job unfinished",
        lambda bench: scenarios.repredict_worker_killed(bench.site()),
    ),
    Scenario(
        "broker-killed-queued",
        "the broker's Redis `kill -9` with a re-prediction and a retrain queued, "
        "restarted empty 3 s later; done = all of it finished and /healthz 200",
        lambda bench: scenarios.broker_killed_with_work_queued(bench.site()),
    ),
    Scenario(
        "broker-down-actions",
        "the broker's Redis down 5 s while an admin clicks Retrain and a client ingests "
        "3 items; done = the retrain finished and the items predicted",
        lambda bench: scenarios.broker_down_during_actions(bench.site()),
    ),
]
# Prediction jobs of 25 items: a re-prediction is 31 jobs, so the kill lands in the middle of it.
BENCH_SETTINGS = {"TAGLOOP_PREDICT_CHUNK_SIZE": "25"}


def main() -> None:
    args = _parse_args()
    chosen = [scenario for scenario in SCENARIOS if not args.only or scenario.name in args.only]
    workdir = Path(tempfile.mkdtemp(prefix="tagloop-bench-faults-"))
    started = time.monotonic()
    settings = {**BENCH_SETTINGS, **(FAST_RECOVERY if args.fast else {})}
    bench = Bench(workdir, settings=settings)
    try:
        rows = [(scenario, _measure(bench, scenario, args.runs)) for scenario in chosen]
    finally:
        bench.close()
        shutil.rmtree(workdir, ignore_errors=True)
    body = _report(rows, runs=args.runs, minutes=(time.monotonic() - started) / 60, fast=args.fast)
    print(body)
    if args.docs is not None:
        replace_section(args.docs, "Faults", body)
        print(f"\nwrote the '## Faults' section of {args.docs}")


def _measure(bench: Bench, scenario: Scenario, runs: int) -> list[scenarios.Outcome]:
    outcomes = []
    for run in range(1, runs + 1):
        try:
            outcome = scenario.play(bench)
        finally:
            bench.end_run()
        recovery = "did not recover" if outcome.recovery_seconds is None else f"{outcome.recovery_seconds:.2f} s"
        print(
            f"{scenario.name} run {run}: {recovery}, {len(outcome.server_errors)} server errors, "
            f"{len(outcome.answers)} requests",
            flush=True,
        )
        outcomes.append(outcome)
    return outcomes


def _lost(outcome: scenarios.Outcome) -> int:
    """Work that never happened: items left without the active model's prediction, retrains not finished."""
    notes, lost = outcome.notes, 0
    lost += notes.get("lacking", 0)
    for retrain in (notes, notes.get("retrain", {})):
        if "state" in retrain and retrain["state"][0] != "candidate":
            lost += 1
    if "items stored" in notes:
        lost += 3 - min(notes["items stored"], notes["items predicted"])
    return lost


def _duplicates(outcome: scenarios.Outcome) -> int:
    """Work done twice: a second version for one retrain request, more predictions than items."""
    notes, extra = outcome.notes, 0
    for retrain in (notes, notes.get("retrain", {})):
        if "newest version" in retrain:
            extra += retrain["newest version"] - retrain["version"]
    if "predictions" in notes:
        extra += max(0, notes["predictions"] - notes["items"])
    return extra


def _report(rows, *, runs: int, minutes: float, fast: bool) -> str:
    when = utc_minute()
    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"
    timings = (
        "the tests' short durable-work timings (`--fast`: heartbeat 1 s, stale after 5 s, reconciler every "
        "2 s, dispatch grace 4 s)"
        if fast
        else "the default durable-work timings (heartbeat 5 s, stale after "
        "30 s, reconciler every 10 s, dispatch grace 20 s)"
    )
    lines = [
        f"`make bench-faults` (benchmarks/bench_faults.py), {when}, {platform.machine()} with {os.cpu_count()} CPUs, "
        f"1-minute load average {load} after the run ({minutes:.1f} min in all). Private services started by the "
        "bench (a PostgreSQL cluster from initdb, redis-servers, gunicorn, a celery worker with embedded beat), a "
        f"fresh site cloned from one seeded database (764 items, an active model, a candidate) per run, {runs} runs "
        f"per fault, {timings}, prediction jobs of 25 items.",
        "",
        "*Back → normal* is the time from the broken service being back (Redis or PostgreSQL listening again, the "
        "worker ready again; for a killed pool process, the kill itself, since the worker forks a new one at once) "
        "to the row's *normal* or *done*. For the cache and the database a loop sends, one after the other with "
        "50 ms pauses, the content list, an item's page, `POST /api/v1/predict`, a wrong-tag report and an "
        "ingestion batch of 3 items (recovery is seen at the resolution of one such round, about 0.4 s); for the "
        "other faults the requests are the admin's clicks and the client's ingestion. *Server errors*: 5xx other "
        "than a 503 with Retry-After, or no answer. *While down*: requests made during the fault that were "
        "answered as usual / with a proper 503 (with the database down, the predict API answers as usual for up "
        "to a second: it re-reads the active model once a second). *Lost*: items left without the active model's "
        "prediction, retrains not finished; *duplicates*: a second version for one request, predictions beyond one "
        "per item.",
        "",
        "| fault | back → normal, median | runs (s) | server errors | while down: normal / 503 | lost | duplicates |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for scenario, outcomes in rows:
        recoveries = [o.recovery_seconds for o in outcomes]
        finished = [r for r in recoveries if r is not None]
        median = f"{statistics.median(finished):.2f} s" if len(finished) == len(recoveries) else "not recovered"
        each = ", ".join("—" if r is None else f"{r:.2f}" for r in recoveries)
        errors = sum(len(o.server_errors) for o in outcomes)
        normal = sum(sum(1 for a in o.during() if a.normal) for o in outcomes)
        unavailable = sum(sum(1 for a in o.during() if a.unavailable) for o in outcomes)
        lost, duplicates = sum(map(_lost, outcomes)), sum(map(_duplicates, outcomes))
        lines.append(
            f"| {scenario.what} | {median} | {each} | {errors} | {normal} / {unavailable} | {lost} | {duplicates} |"
        )
    outcomes = [o for _, group in rows for o in group]
    met = all(o.recovery_seconds is not None and o.recovery_seconds <= TARGET_SECONDS for o in outcomes)
    clean = not any(o.server_errors or _lost(o) or _duplicates(o) for o in outcomes)
    lines += [
        "",
        f"Target (issue 12): every fault back to normal within {TARGET_SECONDS} s, 0 server errors, 0 lost, "
        f"0 duplicates: {'met' if met and clean else 'NOT met'}.",
    ]
    return "\n".join(lines)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_faults", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per fault (the table gives the median)")
    parser.add_argument("--only", nargs="*", choices=[s.name for s in SCENARIOS], help="these faults only")
    parser.add_argument(
        "--fast",
        action="store_true",
        help="the tests' short durable-work timings instead of the defaults (5 s stale, 2 s reconciler)",
    )
    add_docs_arguments(parser, "Faults")
    return parser.parse_args()


if __name__ == "__main__":
    main()
