"""What a running canary costs the predict API: the same load without and with a canary, in one run.

    python -m benchmarks.bench_canary_serve [--share 0.1] [--seconds 10] [--workers 3] [--no-write]

Needs DATABASE_URL naming an empty PostgreSQL database ending in _bench (`make
bench-canary` recreates one): with a canary every request writes its two answers, and
SQLite's single writer would measure SQLite. Seeds that database with the
Made With ML dataset, promotes a tfidf-linear model and trains a second one (another
random_state) as the candidate, starts gunicorn, then drives ``POST /api/v1/predict``
with the dataset's 764 texts (so the canary's per-text records are many rows, not a
few hot ones): first with no canary, then with one at ``--share``. During a canary
a request about a text of the canary or its control group runs both models and
records both answers. Rewrites the "## Serving with
a canary" section of docs/benchmarks.md.
"""

import argparse
import csv
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_serve import (
    REPO,
    _run_clients,
    bench_environment,
    free_port,
    start_gunicorn,
    wait_until_serving,
)
from benchmarks.common import add_docs_arguments, utc_minute
from benchmarks.markdown_section import replace_section

SECTION = "Serving with a canary"
CLIENTS = (1, 10)
SETTLE_SECONDS = 1.5  # web processes re-read the running canary at most once a second
WARM_UP_SECONDS = 10
# Written from the runs of 2026-11-29; a rerun does not update it.
READING = (
    "Reading (2026-11-29): the first runs gave a ratio of 0.62 at 1 and 10 clients. Timing requests one by one "
    "showed the recorded ones paying for a new PostgreSQL connection each (Django's default CONN_MAX_AGE=0: a "
    "predict request without a canary writes nothing and rarely needs one); with persistent connections "
    "(CONN_MAX_AGE=60) it is 0.78-0.84. The rest is the second model: in-process, a recorded request takes "
    "13.9 ms against 5.8 ms (median), so with 20% of texts answered twice about 0.8 is the expected ratio."
)


def main() -> None:
    args = _parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not (url.startswith("postgres") and url.rstrip("/").endswith("_bench")):
        sys.exit(
            "set DATABASE_URL to an empty PostgreSQL database whose name ends in _bench "
            "(`make bench-canary` makes one): the run seeds it, and a canary writes on every request"
        )
    work = Path(tempfile.mkdtemp(prefix="tagloop-bench-canary-"))
    env = bench_environment(work)
    bodies = _dataset_bodies()
    try:
        candidate = _setup()
        port = free_port()
        server = start_gunicorn(port, args.workers, env, work)
        try:
            wait_until_serving(port)
            _run_clients(port, clients=6, seconds=WARM_UP_SECONDS, bodies=bodies)  # load the model in every worker
            without = {n: _run_clients(port, clients=n, seconds=args.seconds, bodies=bodies) for n in CLIENTS}
            _start_canary(candidate, args.share)
            time.sleep(SETTLE_SECONDS)
            # Each worker loads the candidate's artifact on its first canary request, which
            # takes seconds: the warm-up must cover it, or the figures measure loading.
            _run_clients(port, clients=6, seconds=WARM_UP_SECONDS, bodies=bodies)
            with_canary = {n: _run_clients(port, clients=n, seconds=args.seconds, bodies=bodies) for n in CLIENTS}
            served = _served_by_candidate()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = _report(
        without, with_canary, served, share=args.share, workers=args.workers, seconds=args.seconds, texts=len(bodies)
    )
    print(body)
    if args.docs is not None:
        replace_section(args.docs, SECTION, body)
        print(f"\nwrote the '## {SECTION}' section of {args.docs}")


def _dataset_bodies() -> list[dict]:
    with (REPO / "data" / "madewithml_dataset.csv").open(newline="", encoding="utf-8") as handle:
        return [{"title": row["title"], "description": row["description"]} for row in csv.DictReader(handle)]


def _setup():
    import django

    django.setup()
    from django.core.management import call_command

    from predictions.models import ModelVersion
    from predictions.services import model_version_promote, model_version_train

    call_command("migrate", verbosity=0)
    call_command("import_content", str(REPO / "data" / "madewithml_dataset.csv"), "--source", "bench", verbosity=0)
    versions = []
    for number in (1, 2):
        version = ModelVersion.objects.create(number=number, algorithm="tfidf-linear", params={"random_state": number})
        model_version_train(model_version_id=version.pk)
        version.refresh_from_db()
        versions.append(version)
    model_version_promote(model_version=versions[0])
    return versions[1]


def _start_canary(candidate, share: float) -> None:
    from django.db import connections

    from predictions.services import canary_start

    canary_start(candidate=candidate, share=share, override_reason="serving benchmark")
    connections.close_all()


def _served_by_candidate():
    """Online requests recorded during the canary, by the model that answered them."""
    from collections import Counter

    from django.db.models import Sum

    from predictions.models import CanaryServing

    rows = CanaryServing.objects.values("served").annotate(n=Sum("requests"))
    return Counter({row["served"]: row["n"] for row in rows})


def _report(without: dict, with_canary: dict, served, *, share: float, workers: int, seconds: float, texts: int) -> str:
    when = utc_minute()
    load = f"{os.getloadavg()[0]:.1f}"
    total = sum(served.values())
    lines = [
        f"`python -m benchmarks.bench_canary_serve --share {share:g}`, {when}, {platform.machine()} with "
        f"{os.cpu_count()} CPUs, 1-minute load average {load} after the run. gunicorn {workers} sync workers on "
        f"127.0.0.1, PostgreSQL; tfidf-linear v1 active, tfidf-linear v2 (another random_state) as the canary's "
        f"candidate; `POST /api/v1/predict` with the dataset's {texts} texts, closed loop, {seconds:g} s per level "
        "after a warm-up, first without a canary and then with one, in the same run. With the canary, a request "
        f"about a text of the canary or of its control group ({2 * share:.0%} of texts) runs both models and "
        "records both answers in one upsert; the others are served as without a canary.",
        "",
        "| clients | req/s without | req/s with canary | ratio | p50 ms without | p50 ms with | p99 ms without | "
        "p99 ms with | errors with |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for clients in without:
        a, b = without[clients], with_canary[clients]
        lines.append(
            f"| {clients} | {a['rps']:.0f} | {b['rps']:.0f} | {b['rps'] / a['rps']:.2f} | {a['p50']:.1f} | "
            f"{b['p50']:.1f} | {a['p99']:.1f} | {b['p99']:.1f} | {b['errors']} |"
        )
    lines += [
        "",
        f"Requests recorded during the canary (its warm-up included): {total}, of which the candidate answered "
        f"{served.get('candidate', 0)} ({served.get('candidate', 0) / total:.1%}; configured share {share:.0%}, "
        "drawn per text)."
        if total
        else "No request was recorded during the canary.",
        "",
        READING,
    ]
    return "\n".join(lines)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_canary_serve", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--share", type=float, default=0.1, help="the canary's share of texts")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load level")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (2 cores: 3)")
    add_docs_arguments(parser, SECTION)
    return parser.parse_args()


if __name__ == "__main__":
    main()
