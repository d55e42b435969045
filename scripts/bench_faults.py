"""Fault benchmark: for each fault, the time from "the service is back" to "answering normally / all work done".

    python scripts/bench_faults.py [--runs 3] [--only NAME ...] [--no-write]

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
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ml.markdown_section import replace_section  # noqa: E402
from tests.faults import scenarios  # noqa: E402
from tests.faults.processes import PrivatePostgres, PrivateRedis, port_open  # noqa: E402
from tests.faults.site import Site, seed_cluster  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
TARGET_SECONDS = 60


class Bench:
    """The private cluster and seed shared by all runs, and fresh sites with their own Redis servers."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.postgres = PrivatePostgres().init()
        self.postgres.start()
        self.seed = seed_cluster(self.postgres, workdir / "seed")
        self._redis: list[PrivateRedis] = []
        self._sites: list[Site] = []

    def redis(self) -> PrivateRedis:
        redis = PrivateRedis(self.workdir / "redis").start()
        self._redis.append(redis)
        return redis

    def site(self, *, cache: bool = False) -> Site:
        site = Site(postgres=self.postgres, seed=self.seed, workdir=self.workdir, broker=self.redis(),
                    cache=self.redis() if cache else None)
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
    play: object  # (Bench) -> scenarios.Outcome


SCENARIOS = [
    Scenario("cache-down", "cache Redis `kill -9`, 5 s, restarted empty; recovered = rate limits count in Redis again",
             lambda bench: scenarios.cache_killed(bench.site(cache=True), outage_seconds=5)),
    Scenario("database-down", "PostgreSQL stopped (`pg_ctl stop -m fast`) 10 s; recovered = every request normal",
             lambda bench: scenarios.database_stopped(bench.site(), bench.postgres, outage_seconds=10)),
]


def main() -> None:
    args = _parse_args()
    chosen = [scenario for scenario in SCENARIOS if not args.only or scenario.name in args.only]
    workdir = Path(tempfile.mkdtemp(prefix="tagloop-bench-faults-"))
    started = time.monotonic()
    bench = Bench(workdir)
    try:
        rows = [(scenario, _measure(bench, scenario, args.runs)) for scenario in chosen]
    finally:
        bench.close()
        shutil.rmtree(workdir, ignore_errors=True)
    body = _report(rows, runs=args.runs, minutes=(time.monotonic() - started) / 60)
    print(body)
    if not args.no_write:
        replace_section(DOC, "Faults", body)
        print(f"\nwrote the '## Faults' section of {DOC.relative_to(REPO)}")


def _measure(bench: Bench, scenario: Scenario, runs: int) -> list[scenarios.Outcome]:
    outcomes = []
    for run in range(1, runs + 1):
        try:
            outcome = scenario.play(bench)
        finally:
            bench.end_run()
        recovery = "did not recover" if outcome.recovery_seconds is None else f"{outcome.recovery_seconds:.2f} s"
        print(f"{scenario.name} run {run}: {recovery}, {len(outcome.server_errors)} server errors, "
              f"{len(outcome.answers)} requests", flush=True)
        outcomes.append(outcome)
    return outcomes


def _report(rows, *, runs: int, minutes: float) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"
    lines = [
        f"`make bench-faults` (scripts/bench_faults.py), {when}, {platform.machine()} with {os.cpu_count()} CPUs, "
        f"1-minute load average {load} after the run ({minutes:.1f} min in all). Private services started by the "
        "bench (a PostgreSQL cluster from initdb, redis-servers, gunicorn with 2 sync workers, celery workers), a "
        f"fresh site cloned from one seeded database per run, {runs} runs per fault. Traffic during each run: a loop "
        "on loopback sending, one after the other with 50 ms pauses, the content list, an item's page, "
        "`POST /api/v1/predict`, a wrong-tag report and an ingestion batch of 3 items. *Back → normal* is the "
        "time from the broken service being back (listening again) to recovery as the row defines it; *server "
        "errors* are answers that are 5xx (other than a 503 with Retry-After) or no answer at all; of the requests "
        "made while the service was down, *normal while down* counts those answered as usual and *503 while down* "
        "the proper 503s. Recovery is seen at the resolution of one round of traffic (five requests, about 0.4 s).",
        "",
        "| fault | back → normal, median | runs | server errors | normal while down | 503 while down | requests |",
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
        requests = sum(len(o.answers) for o in outcomes)
        lines.append(f"| {scenario.what} | {median} | {each} | {errors} | {normal} | {unavailable} | {requests} |")
    worst = [r for _, outcomes in rows for r in (o.recovery_seconds for o in outcomes)]
    met = all(r is not None and r <= TARGET_SECONDS for r in worst)
    errors = sum(len(o.server_errors) for _, outcomes in rows for o in outcomes)
    lines += ["", f"Target (issue 12): every fault back to normal within {TARGET_SECONDS} s with 0 server errors: "
                  f"{'met' if met and errors == 0 else 'NOT met'}."]
    return "\n".join(lines)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per fault (the table gives the median)")
    parser.add_argument("--only", nargs="*", choices=[s.name for s in SCENARIOS], help="these faults only")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


if __name__ == "__main__":
    main()
