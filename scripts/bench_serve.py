"""Serving benchmark: gunicorn on loopback, POST /api/v1/predict at 1, 10 and 50 clients.

    python scripts/bench_serve.py [--seconds 10] [--workers 3] [--no-write]

Sets up a throwaway database (SQLite in a temp folder, or DATABASE_URL when set) with
the Made With ML dataset imported and a tfidf-linear model trained and promoted in this
process, measures the in-process model call (``predict_text``) for reference, then starts
gunicorn (sync workers) and drives it with a load generator written here: one thread per
client, each with its own ``http.client`` connection, sending requests back to back
(closed loop). Reports requests/s, p50, p99 and errors, and rewrites the "## Serving"
section of docs/benchmarks.md.
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
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
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
    work = Path(tempfile.mkdtemp(prefix="tagloop-bench-serve-"))
    env = bench_environment(work)
    try:
        version, in_process = _setup_and_measure_in_process(args.calls)
        port = _free_port()
        server = _start_gunicorn(port, args.workers, env, work)
        try:
            _wait_until_serving(port)
            _run_clients(port, clients=4, seconds=2)  # warm every worker (model loaded on first request)
            rows = [(n, _run_clients(port, clients=n, seconds=args.seconds)) for n in CLIENTS]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = _report(rows, in_process, version=version, workers=args.workers, seconds=args.seconds,
                   database="PostgreSQL (DATABASE_URL)" if "DATABASE_URL" in os.environ else "SQLite")
    print(body)
    if not args.no_write:
        sys.path.insert(0, str(REPO))
        from ml.markdown_section import replace_section

        replace_section(DOC, "Serving", body)
        print(f"\nwrote the '## Serving' section of {DOC.relative_to(REPO)}")


def bench_environment(work: Path) -> dict:
    """The environment of this process and of gunicorn: files under ``work``, no rate limit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
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


def _setup_and_measure_in_process(calls: int) -> tuple[str, dict]:
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    from predictions.models import ModelVersion
    from predictions.services import model_version_promote, model_version_train, predict_text

    call_command("migrate", verbosity=0)
    call_command("import_content", str(REPO / "data" / "madewithml_dataset.csv"), "--source", "bench", verbosity=0)
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear", params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    version = model_version_promote(model_version=version)
    timings = []
    for index in range(calls + 20):
        start = time.perf_counter()
        predict_text(**BODIES[index % len(BODIES)])
        if index >= 20:  # the first calls load the artifact
            timings.append((time.perf_counter() - start) * 1000)
    from django.db import connections

    connections.close_all()
    return f"v{version.number} {version.algorithm}", _percentiles(timings)


def _start_gunicorn(port: int, workers: int, env: dict, work: Path) -> subprocess.Popen:
    log = open(work / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--backlog", "2048", "--timeout", "60",
         "--log-level", "warning"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def _wait_until_serving(port: int, timeout: float = 60) -> None:
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
    return {"requests": len(everything), "rps": len(everything) / elapsed, "errors": sum(errors),
            **_percentiles(everything)}


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": float("nan"), "p99": float("nan")}
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]}


def _report(rows, in_process: dict, *, version: str, workers: int, seconds: float, database: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"
    lines = [
        f"`make bench-serve` (scripts/bench_serve.py), {when}, {platform.machine()} with {os.cpu_count()} CPUs, "
        f"1-minute load average {load} after the run. gunicorn {workers} sync workers on 127.0.0.1, {database}, "
        f"model {version} trained on the Made With ML dataset; `POST /api/v1/predict` with one of four short "
        f"items, closed loop (each client sends its next request when the answer arrives), {seconds:g} s per "
        "level after a warm-up. The load generator (threads with `http.client`) runs on the same two cores as the "
        "server, so it takes part of the CPU it measures. The per-client rate limit is lifted for the run.",
        "",
        "| clients | requests | req/s | p50 ms | p99 ms | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for clients, row in rows:
        lines.append(f"| {clients} | {row['requests']} | {row['rps']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} | "
                     f"{row['errors']} |")
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
        lines.append(f"Target at 10 clients (≥ {TARGET_RPS} req/s with p99 ≤ {TARGET_P99_MS:g} ms): "
                     f"{'met' if met else 'NOT met'} ({ten['rps']:.0f} req/s, p99 {ten['p99']:.1f} ms).")
    if fifty:
        lines.append(f"No errors at 50 clients: {'met' if fifty['errors'] == 0 else 'NOT met'} "
                     f"({fifty['errors']} errors).")
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load level")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (2 cores: 3)")
    parser.add_argument("--calls", type=int, default=500, help="in-process model calls to time")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


if __name__ == "__main__":
    main()
