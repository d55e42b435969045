"""Serving benchmark: gunicorn on loopback, POST /api/v1/predict at 1, 10 and 50 clients.

    python -m benchmarks.bench_serve [--seconds 10] [--workers 3] [--preload] [--no-write]
    python -m benchmarks.bench_serve --compare-preload [--rounds 3] [--seconds 10] [--workers 3] [--no-write]

Sets up a throwaway database (SQLite in a temp folder, or DATABASE_URL when set) with
the Made With ML dataset imported and a model (``--algorithm``, tfidf-linear) trained and promoted in this
process, measures the in-process model call (``predict_text``) for reference, then starts
gunicorn (sync workers) and drives it with a load generator written here: one thread per
client, each with its own ``http.client`` connection, sending requests back to back
(closed loop). Reports requests/s, p50, p99 and errors, and rewrites the "## Serving"
section of docs/benchmarks.md. ``--preload`` starts gunicorn with ``--preload`` (the app, and
the model it warms, loaded once before the workers fork).

``--compare-preload`` starts gunicorn without and with ``--preload`` in turn (A/B then B/A,
``--rounds`` times each) and measures, per start: boot to the first predict answer, req/s
and latency at 10 clients, and the memory of each worker and of the master (PSS and RSS
from /proc/PID/smaps_rollup: PSS splits the pages shared after a fork between the
processes sharing them). Medians go to the "## Serving: preload" section.
"""

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import add_docs_arguments, utc_minute
from benchmarks.markdown_section import replace_section

REPO = Path(__file__).resolve().parent.parent
CLIENTS = (1, 10, 50)
TARGET_RPS, TARGET_P99_MS = 400, 50.0
BODIES = [
    {"title": "Semantic segmentation of street scenes", "description": "pixel level labels with a U-Net"},
    {"title": "Fine-tuning BERT for question answering", "description": "transformers on SQuAD"},
    {"title": "Serving models with Kubernetes", "description": "autoscaling inference behind an API"},
    {"title": "Graph neural networks for molecules", "description": "message passing for chemistry"},
]


def main() -> None:
    args = _parse_args()
    if args.compare_preload:
        compare_preload(args)
        return
    work = Path(tempfile.mkdtemp(prefix="tagloop-bench-serve-"))
    env = bench_environment(work)
    try:
        version, in_process = setup_and_measure_in_process(args.calls, algorithm=args.algorithm)
        port = free_port()
        server = start_gunicorn(port, args.workers, env, work, preload=args.preload)
        try:
            wait_until_serving(port)
            _run_clients(port, clients=4, seconds=2)  # warm every worker (model loaded on first request)
            rows = [(n, _run_clients(port, clients=n, seconds=args.seconds)) for n in CLIENTS]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = _report(
        rows,
        in_process,
        version=version,
        workers=args.workers,
        seconds=args.seconds,
        database=_database_name(),
        preload=args.preload,
    )
    print(body)
    if args.docs is not None:
        replace_section(args.docs, "Serving", body)
        print(f"\nwrote the '## Serving' section of {args.docs}")


def bench_environment(work: Path) -> dict:
    """The environment of this process and of gunicorn: files under ``work``, no rate limit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "TAGLOOP_VAR_DIR": str(work),
        "TAGLOOP_MODEL_DIR": str(work / "models"),
        # The per-client limit (6000/minute by default) would answer 429 to a load test
        # from one address; it is lifted here so the stack itself is measured.
        "TAGLOOP_PREDICT_RATE": "100000000/minute",
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_DEFAULT_QUEUE": f"bench-{os.getpid()}",
    }
    os.environ.update(env)
    return env


def setup_and_measure_in_process(calls: int, *, algorithm: str = "tfidf-linear") -> tuple[str, dict]:
    import django

    django.setup()
    from django.core.management import call_command

    from predictions.models import ModelVersion
    from predictions.services import model_version_promote, model_version_train, predict_text

    call_command("migrate", verbosity=0)
    if ModelVersion.objects.exists():  # a second run would fail on version 1, and serve other data than stated
        raise SystemExit(
            f"the benchmark needs an empty database, and {_database_name()} already holds model versions: "
            "point DATABASE_URL at a fresh one (createdb), or unset it for a temporary SQLite file"
        )
    call_command("import_content", str(REPO / "data" / "madewithml_dataset.csv"), "--source", "bench", verbosity=0)
    version = ModelVersion.objects.create(number=1, algorithm=algorithm, params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    version = model_version_promote(model_version=version)
    timings = []
    for index in range(calls + 20):
        start = time.perf_counter()
        body = BODIES[index % len(BODIES)]
        predict_text(title=body["title"], description=body["description"])
        if index >= 20:  # the first calls load the artifact
            timings.append((time.perf_counter() - start) * 1000)
    from django.db import connections

    connections.close_all()
    return f"v{version.number} {version.algorithm}", _percentiles(timings)


def _database_name() -> str:
    return "PostgreSQL (DATABASE_URL)" if "DATABASE_URL" in os.environ else "SQLite"


def start_gunicorn(
    port: int,
    workers: int,
    env: dict,
    work: Path,
    *,
    preload: bool = False,
    worker_class: str = "sync",
    threads: int = 1,
    cwd: Path = REPO,
) -> subprocess.Popen:
    """gunicorn serving the checkout at ``cwd`` (this one by default), its log and files under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    log = open(work / "gunicorn.log", "a")  # noqa: SIM115 - closed with the process
    # A configuration file with only the repository's worker_exit hook (without it a worker forked after
    # the encoder warmed hangs on SIGTERM): gunicorn would otherwise read the whole gunicorn.conf.py
    # (preload on, an access log), and the flags below alone are what is measured.
    no_conf = work / "no-gunicorn-conf.py"
    no_conf.write_text(
        f"import runpy\nworker_exit = runpy.run_path({str(REPO / 'gunicorn.conf.py')!r})['worker_exit']\n"
    )
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--config",
            str(no_conf),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--log-level",
            "warning",
            *(["--preload"] if preload else []),
        ],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


# --- preload against none ---------------------------------------------------------------------

COMPARE_CLIENTS = 10


def compare_preload(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="tagloop-bench-serve-"))
    env = bench_environment(work)
    runs: list[dict] = []
    try:
        version, _ = setup_and_measure_in_process(calls=0, algorithm=args.algorithm)
        for round_number in range(args.rounds):
            # A/B, then B/A: neither mode always runs on a machine the other just warmed.
            order = (False, True) if round_number % 2 == 0 else (True, False)
            for preload in order:
                run = _one_start(env, work, preload=preload, workers=args.workers, seconds=args.seconds)
                runs.append(run)
                print(_run_line(run), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = _preload_report(runs, version=version, args=args)
    print(body)
    if args.docs is not None:
        replace_section(args.docs, "Serving: preload", body)
        print(f"\nwrote the '## Serving: preload' section of {args.docs}")


def _one_start(env: dict, work: Path, *, preload: bool, workers: int, seconds: float) -> dict:
    port = free_port()
    started = time.perf_counter()
    server = start_gunicorn(port, workers, env, work, preload=preload)
    try:
        boot = _first_answer(port, started)
        _run_clients(port, clients=4, seconds=2)  # every worker answers once before the measured run
        row = _run_clients(port, clients=COMPARE_CLIENTS, seconds=seconds)
        figures = memory(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return {"preload": preload, "boot_s": boot, **row, **figures, "load": load_average()}


def _first_answer(port: int, started: float, timeout: float = 120) -> float:
    """Seconds from starting gunicorn to the first 200 answer of the predict API."""
    body = json.dumps(BODIES[0]).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", "/api/v1/predict", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("gunicorn never answered a prediction")


def memory(master: int) -> dict:
    """PSS and RSS (MB) of each worker (median) and of the master, from smaps_rollup."""
    workers = [pid for pid in _children(master)]
    worker_pss = [_smaps_rollup(pid)["Pss"] for pid in workers]
    worker_rss = [_smaps_rollup(pid)["Rss"] for pid in workers]
    master_figures = _smaps_rollup(master)
    return {
        "workers": len(workers),
        "worker_pss_mb": statistics.median(worker_pss),
        "worker_rss_mb": statistics.median(worker_rss),
        "master_pss_mb": master_figures["Pss"],
        "total_pss_mb": sum(worker_pss) + master_figures["Pss"],
    }


def _children(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces or parentheses: the fields follow the last ')'.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            children.append(int(entry.name))
    return children


def _smaps_rollup(pid: int) -> dict[str, float]:
    figures = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        figures[key.strip()] = int(value.split()[0]) / 1024  # kB -> MB
    return figures


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def _mode(preload: bool) -> str:
    return "--preload" if preload else "no preload"


def _run_line(run: dict) -> str:
    return (
        f"{_mode(run['preload'])}: boot -> first answer {run['boot_s']:.2f} s, {run['rps']:.0f} req/s at "
        f"{COMPARE_CLIENTS} clients (p50 {run['p50']:.1f} ms, p99 {run['p99']:.1f} ms, {run['errors']} errors), "
        f"worker PSS {run['worker_pss_mb']:.0f} MB (RSS {run['worker_rss_mb']:.0f} MB), master PSS "
        f"{run['master_pss_mb']:.0f} MB; load average {run['load']}"
    )


def _preload_report(runs: list[dict], *, version: str, args: argparse.Namespace) -> str:
    when = utc_minute()
    lines = [
        f"`python -m benchmarks.bench_serve --compare-preload --rounds {args.rounds} --seconds {args.seconds:g} "
        f"--workers {args.workers}"
        f"{'' if args.algorithm == 'tfidf-linear' else ' --algorithm ' + args.algorithm}`, {when}, {platform.machine()} with {os.cpu_count()} CPUs; the machine is shared "
        "with other engineers' test suites, so each start's 1-minute load average is listed below. gunicorn "
        f"{args.workers} sync workers, {_database_name()}, model {version}; each start is timed from launching "
        f"gunicorn to the first 200 of `POST /api/v1/predict`, then {COMPARE_CLIENTS} clients send requests back "
        f"to back for {args.seconds:g} s; memory is read from /proc/PID/smaps_rollup after that run. Starts "
        "alternate A/B, B/A; the table gives the median of the starts of each mode.",
        "",
        f"| gunicorn | starts | boot → first answer s | req/s at {COMPARE_CLIENTS} | p50 ms | p99 ms | errors "
        "| PSS per worker MB | RSS per worker MB | master PSS MB | total PSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for preload in (False, True):
        mine = [run for run in runs if run["preload"] == preload]

        def median(key, mine=mine):
            return statistics.median(run[key] for run in mine)

        lines.append(
            f"| {_mode(preload)} | {len(mine)} | {median('boot_s'):.2f} | {median('rps'):.0f} | "
            f"{median('p50'):.1f} | {median('p99'):.1f} | {sum(run['errors'] for run in mine)} | "
            f"{median('worker_pss_mb'):.0f} | {median('worker_rss_mb'):.0f} | {median('master_pss_mb'):.0f} | "
            f"{median('total_pss_mb'):.0f} |"
        )
    lines += ["", "Each start, in order:", ""]
    lines += [f"- {_run_line(run)}" for run in runs]
    return "\n".join(lines)


def wait_until_serving(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def _run_clients(port: int, *, clients: int, seconds: float, bodies: list[dict] = BODIES) -> dict:
    """Closed loop: each client sends its next request as soon as the previous answer arrives."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start_gate = threading.Barrier(clients + 1)
    stop_at = [0.0]

    encoded = [json.dumps(body).encode() for body in bodies]

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        start_gate.wait()
        sent = 0
        while time.perf_counter() < stop_at[0]:
            body = encoded[(index * 7919 + sent) % len(encoded)]
            sent += 1
            began = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/predict", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
            latencies[index].append((time.perf_counter() - began) * 1000)
            if not ok:
                errors[index] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    everything = [value for values in latencies for value in values]
    return {
        "requests": len(everything),
        "rps": len(everything) / elapsed,
        "errors": sum(errors),
        **_percentiles(everything),
    }


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": float("nan"), "p99": float("nan")}
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]}


def _report(
    rows, in_process: dict, *, version: str, workers: int, seconds: float, database: str, preload: bool = False
) -> str:
    when = utc_minute()
    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"
    lines = [
        f"`make bench-serve` (benchmarks/bench_serve.py), {when}, {platform.machine()} with {os.cpu_count()} CPUs, "
        f"1-minute load average {load} after the run. gunicorn {workers} sync workers{' --preload' if preload else ''} "
        f"on 127.0.0.1, {database}, "
        f"model {version} trained on the Made With ML dataset; `POST /api/v1/predict` with one of four short "
        f"items, closed loop (each client sends its next request when the answer arrives), {seconds:g} s per "
        "level after a warm-up. The load generator (threads with `http.client`) runs on the same two cores as the "
        "server, so it takes part of the CPU it measures. The per-client rate limit is lifted for the run. "
        f"TAGLOOP_LEAN_PREDICT={os.environ.get('TAGLOOP_LEAN_PREDICT', 'true (default)')}: online predictions "
        "through the compiled model where it compiles (false: through the scikit-learn pipeline).",
        "",
        "| clients | requests | req/s | p50 ms | p99 ms | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for clients, row in rows:
        lines.append(
            f"| {clients} | {row['requests']} | {row['rps']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} | "
            f"{row['errors']} |"
        )
    lines += [
        "",
        f"In-process model call (`predict_text`, same run, no HTTP): p50 {in_process['p50']:.2f} ms, "
        f"p99 {in_process['p99']:.2f} ms.",
        "",
    ]
    by_clients = dict(rows)
    ten, fifty = by_clients.get(10), by_clients.get(50)
    if ten:
        met = ten["rps"] >= TARGET_RPS and ten["p99"] <= TARGET_P99_MS
        lines.append(
            f"Target at 10 clients (≥ {TARGET_RPS} req/s with p99 ≤ {TARGET_P99_MS:g} ms): "
            f"{'met' if met else 'NOT met'} ({ten['rps']:.0f} req/s, p99 {ten['p99']:.1f} ms)."
        )
    if fifty:
        lines.append(
            f"No errors at 50 clients: {'met' if fifty['errors'] == 0 else 'NOT met'} ({fifty['errors']} errors)."
        )
    return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_serve", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load level")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (2 cores: 3)")
    parser.add_argument("--calls", type=int, default=500, help="in-process model calls to time")
    parser.add_argument("--algorithm", default="tfidf-linear", help="the model served (default tfidf-linear)")
    parser.add_argument("--preload", action="store_true", help="start gunicorn with --preload")
    parser.add_argument(
        "--compare-preload",
        action="store_true",
        help="without and with --preload in turn: boot, req/s, memory per worker",
    )
    parser.add_argument("--rounds", type=int, default=3, help="starts of each mode with --compare-preload")
    add_docs_arguments(parser, "Serving")
    return parser.parse_args()


if __name__ == "__main__":
    main()
