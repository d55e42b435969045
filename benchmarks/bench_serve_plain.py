"""tagloop's predict API against plain Django and a naive DRF predict view, in one run, with wrk.

    python -m benchmarks.bench_serve_plain [--algorithm minilm-linear] [--texts varied|repeated]
        [--seconds 5] [--rounds 3] [--workers 3] [--worker-class sync] [--threads 1] [--no-write]
        [--baseline-tree PATH]

One gunicorn (``--preload``, the same flags for every contender) serves three URLs: ``/bench/plain``
(Django answering fixed JSON, the ceiling), ``/bench/naive-predict`` (a short DRF view predicting
with the fitted pipeline) and tagloop's ``POST /api/v1/predict``; the references are mounted by
benchmarks.serving.settings only. wrk (C, closed loop) sends the requests at 1, 10 and 50
connections, each contender in turn, A/B/C then C/B/A, ``--rounds`` times, each run starting
once the server has served what the previous one left queued; the table gives medians and the
ratio to plain Django's req/s at the same level.  "server CPU ms/req" is the CPU time gunicorn's
processes (master and workers, every thread) used during a run divided by the requests answered:
what a request costs the cores without wrk's share, and less moved than req/s by other work on a
shared machine (2 cores at 400 req/s leave 5 ms for everything).

``--baseline-tree PATH`` adds a fourth contender, A/B in the same run: the same predict URL served
by a second gunicorn (same flags, same database and model) from another checkout of tagloop, e.g.
``git worktree add /tmp/tagloop-main main``; its figures are "tagloop before" in the table.

Texts: ``varied`` pairs a random title with a random description of the dataset at every request,
so an encoder's per-text cache almost never answers; ``repeated`` cycles through four texts, which
the cache answers after their first request.
"""

import argparse
import csv
import http.client
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.bench_serve import (
    BODIES,
    REPO,
    bench_environment,
    free_port,
    load_average,
    setup_and_measure_in_process,
    start_gunicorn,
    wait_until_serving,
)
from benchmarks.common import DATASET, add_docs_arguments, command_line, utc_minute
from benchmarks.markdown_section import replace_section

CLIENTS = (1, 10, 50)
CONTENDERS = {
    "plain Django": "/bench/plain",
    "naive DRF predict": "/bench/naive-predict",
    "tagloop /api/v1/predict": "/api/v1/predict",
}
OURS = "tagloop /api/v1/predict"
BEFORE = "tagloop before"
TARGET_RATIO, TARGET_P99_MS = 0.4, 50.0
SECTION = "Serving: against plain Django"


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench-serve does it)")
    work = Path(tempfile.mkdtemp(prefix="tagloop-bench-plain-"))
    env = bench_environment(work)
    env["DJANGO_SETTINGS_MODULE"] = os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.serving.settings"
    try:
        version, _ = setup_and_measure_in_process(calls=0, algorithm=args.algorithm)
        script = _write_script(work / "bodies.lua", texts=args.texts)
        samples = _measure(args, env, work, script, contenders=_contenders(args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = _report(samples, version=version, args=args, argv=argv)
    print(body)
    if args.docs is not None:
        heading = f"{SECTION}, {args.algorithm}, {args.texts} texts, {args.worker_class}"
        if args.baseline_tree:
            heading += ", before and after"
        replace_section(args.docs, heading, body)
        print(f"\nwrote the '## {heading}' section of {args.docs}")


def _contenders(args: argparse.Namespace) -> dict[str, str]:
    return {**CONTENDERS, BEFORE: CONTENDERS[OURS]} if args.baseline_tree else dict(CONTENDERS)


def _measure(args: argparse.Namespace, env: dict, work: Path, script: Path, *, contenders: dict) -> list[dict]:
    """Every contender in turn at each level; ``BEFORE`` is served by its own gunicorn (--baseline-tree)."""
    ports = {name: free_port() for name in (["tagloop", BEFORE] if BEFORE in contenders else ["tagloop"])}
    servers = [
        start_gunicorn(
            port,
            args.workers,
            env,
            work / name.replace(" ", "-"),
            preload=True,
            worker_class=args.worker_class,
            threads=args.threads,
            cwd=args.baseline_tree if name == BEFORE else REPO,
        )
        for name, port in ports.items()
    ]
    port_of = {name: ports[BEFORE if name == BEFORE else "tagloop"] for name in contenders}
    samples = []
    try:
        for port in ports.values():
            wait_until_serving(port)
        for name, path in contenders.items():  # every worker loads what each URL needs before timing
            _wrk(port_of[name], path, script, clients=args.workers * 2, seconds=2)
        for clients in CLIENTS:
            for round_number in range(args.rounds):
                names = list(contenders) if round_number % 2 == 0 else list(reversed(contenders))
                for name in names:
                    for port in ports.values():
                        _drain(port)
                    pid = servers[list(ports).index(BEFORE if name == BEFORE else "tagloop")].pid
                    cpu_before = _cpu_seconds(pid)
                    figures = _wrk(port_of[name], contenders[name], script, clients=clients, seconds=args.seconds)
                    cpu_ms = (_cpu_seconds(pid) - cpu_before) * 1000 / max(figures["requests"], 1)
                    samples.append(
                        {"contender": name, "clients": clients, **figures, "cpu_ms": cpu_ms, "load": load_average()}
                    )
                    print(_sample_line(samples[-1]), flush=True)
    finally:
        for server in servers:
            _stop(server)
    return samples


def _cpu_seconds(master: int) -> float:
    """User + system CPU seconds of ``master`` and its child processes so far (from /proc)."""
    total = 0
    for pid in [master, *_children(master)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a worker that exited between the listing and the read
        total += int(fields[11]) + int(fields[12])  # utime and stime, the stat line's 14th and 15th fields
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return children


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if gunicorn is still finishing what wrk left queued after 30 s."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


def _drain(port: int, timeout: float = 120) -> None:
    """Wait until the requests wrk left queued when it stopped are served.

    wrk stops at its deadline with requests in flight, which the server still serves: for a slow
    contender, seconds of work that would land on the next contender's run. A probe queued behind
    them returns once they are done; two fast probes in a row mean the queue is empty.
    """
    deadline = time.monotonic() + timeout
    fast = 0
    while fast < 2 and time.monotonic() < deadline:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("GET", "/healthz/live")
        connection.getresponse().read()
        connection.close()
        fast = fast + 1 if time.monotonic() - started < 0.05 else 0


def _wrk(port: int, path: str, script: Path, *, clients: int, seconds: float) -> dict:
    """One wrk run; its Lua ``done`` prints the figures as a JSON line."""
    command = [
        "wrk",
        f"--threads={min(clients, 2)}",
        f"--connections={clients}",
        f"--duration={seconds:g}s",
        "--timeout=30s",
        f"--script={script}",
        f"http://127.0.0.1:{port}",
        "--",
        path,
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(line for line in output.splitlines() if line.startswith("FIGURES "))
    raw = json.loads(line.removeprefix("FIGURES "))
    seconds_measured = raw["duration_us"] / 1e6
    errors = raw["status"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds_measured,
        "p50": raw["p50_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "errors": errors,
    }


def _write_script(path: Path, *, texts: str) -> Path:
    """wrk's Lua: which body each request sends, and the figures printed at the end."""
    if texts == "varied":
        titles, descriptions = _dataset_fields()
    else:
        titles, descriptions = [b["title"] for b in BODIES], [b["description"] for b in BODIES]
    path.write_text(
        LUA.replace("@TITLES@", _lua_list(titles))
        .replace("@DESCRIPTIONS@", _lua_list(descriptions))
        .replace("@VARIED@", "true" if texts == "varied" else "false"),
        encoding="utf-8",
    )
    return path


def _dataset_fields() -> tuple[list[str], list[str]]:
    with open(REPO / DATASET, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row["title"] for row in rows], [row["description"] for row in rows]


def _lua_list(values: list[str]) -> str:
    # JSON-escaped text inside Lua long brackets: no Lua escaping needed, no newline inside.
    items = []
    for value in values:
        escaped = json.dumps(value, ensure_ascii=False)[1:-1]
        if "]==]" in escaped:
            continue
        items.append(f"[==[{escaped}]==]")
    return "{" + ",\n".join(items) + "}"


LUA = r"""
-- Written by benchmarks/bench_serve_plain.py for one run.
local titles = @TITLES@
local descriptions = @DESCRIPTIONS@
local varied = @VARIED@
local made = 0
local headers = {["Content-Type"] = "application/json"}

function setup(thread)
  made = made + 1
  thread:set("seed", made)
end

function init(args)
  target = args[1]
  sent = 0
  math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
  sent = sent + 1
  local t, d
  if varied then
    t, d = math.random(#titles), math.random(#descriptions)
  else
    t = (sent + (seed or 0)) % #titles + 1
    d = t
  end
  local body = '{"title": "' .. titles[t] .. '", "description": "' .. descriptions[d] .. '"}'
  return wrk.format("POST", target, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FIGURES {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "status": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def _sample_line(sample: dict) -> str:
    return (
        f"{sample['contender']:<24} {sample['clients']:>3} clients: {sample['rps']:7.0f} req/s, "
        f"p50 {sample['p50']:6.1f} ms, p99 {sample['p99']:6.1f} ms, server CPU {sample['cpu_ms']:5.2f} ms/req, "
        f"{sample['errors']} errors, load {sample['load']}"
    )


def _summary(samples: list[dict], contenders: dict) -> dict[tuple[int, str], dict]:
    """Medians per (clients, contender); errors summed."""
    table = {}
    for clients in CLIENTS:
        for name in contenders:
            mine = [s for s in samples if s["clients"] == clients and s["contender"] == name]
            table[(clients, name)] = {
                "runs": len(mine),
                "rps": statistics.median(s["rps"] for s in mine),
                "p50": statistics.median(s["p50"] for s in mine),
                "p99": statistics.median(s["p99"] for s in mine),
                "cpu_ms": statistics.median(s["cpu_ms"] for s in mine),
                "errors": sum(s["errors"] for s in mine),
            }
    return table


def _report(samples: list[dict], *, version: str, args: argparse.Namespace, argv: list[str] | None) -> str:
    contenders = _contenders(args)
    table = _summary(samples, contenders)
    loads = sorted({s["load"] for s in samples}, key=lambda load: float(load) if load != "n/a" else 0.0)
    worker = f"{args.workers} {args.worker_class} workers" + (f" x {args.threads} threads" if args.threads > 1 else "")
    lines = [
        f"`{command_line('benchmarks.bench_serve_plain', argv)}`, {utc_minute()}, {platform.machine()} with "
        f"{os.cpu_count()} CPUs, 1-minute load average {loads[0]}–{loads[-1]} during the run (the machine is "
        f"shared with other engineers' work). gunicorn --preload, {worker}, model {version}; wrk on the same "
        f"two cores, {args.seconds:g} s per run, contenders in turn A/B/C then C/B/A, {args.rounds} runs each, "
        "each run starting once the server has served what the previous run left queued; "
        f"medians. Texts: {args.texts}.",
        "",
        "| clients | contender | req/s | ratio to plain Django | p50 ms | p99 ms | server CPU ms/req | errors |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for clients in CLIENTS:
        plain = table[(clients, "plain Django")]["rps"]
        for name in contenders:
            row = table[(clients, name)]
            lines.append(
                f"| {clients} | {name} | {row['rps']:.0f} | {row['rps'] / plain:.2f} | {row['p50']:.1f} | "
                f"{row['p99']:.1f} | {row['cpu_ms']:.2f} | {row['errors']} |"
            )
    ours_10 = table[(10, OURS)]
    ratio = ours_10["rps"] / table[(10, "plain Django")]["rps"]
    met = ratio >= TARGET_RATIO and ours_10["p99"] <= TARGET_P99_MS
    errors_50 = table[(50, OURS)]["errors"]
    lines += [
        "",
        f"Target at 10 clients (≥ {TARGET_RATIO} x plain Django, p99 ≤ {TARGET_P99_MS:g} ms): "
        f"{'met' if met else 'NOT met'} ({ratio:.2f} x, p99 {ours_10['p99']:.1f} ms); "
        f"errors at 50 clients: {errors_50}.",
        *_before_line(table, args),
        "",
        "Each run, in order:",
        "",
        *(f"- {_sample_line(sample)}" for sample in samples),
    ]
    return "\n".join(lines)


def _before_line(table: dict, args: argparse.Namespace) -> list[str]:
    if not args.baseline_tree:
        return []
    before, ours = table[(10, BEFORE)], table[(10, OURS)]
    plain = table[(10, "plain Django")]["rps"]
    return [
        "",
        f"A/B at 10 clients: tagloop before ({_tree_commit(args.baseline_tree)}) {before['rps']:.0f} req/s "
        f"({before['rps'] / plain:.2f} x plain, p50 {before['p50']:.1f} / p99 {before['p99']:.1f} ms), "
        f"after ({_tree_commit(REPO)}) {ours['rps']:.0f} req/s ({ours['rps'] / plain:.2f} x plain, "
        f"p50 {ours['p50']:.1f} / p99 {ours['p99']:.1f} ms): {ours['rps'] / before['rps']:.2f} x before.",
    ]


def _tree_commit(tree: Path) -> str:
    """The checkout's commit, and "+ changes" when its files (not docs/, which benchmarks write) differ from it."""
    git = ["git", "-C", str(tree)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    status = [*git, "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs"]
    dirty = subprocess.run(status, capture_output=True, text=True)
    return f"{commit or 'unknown'}{' + changes' if dirty.stdout.strip() else ''}"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_serve_plain", description=__doc__.splitlines()[0])
    parser.add_argument("--algorithm", default="tfidf-linear", help="the model served")
    parser.add_argument("--texts", choices=("varied", "repeated"), default="varied")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each contender per level")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="another checkout of tagloop (e.g. a git worktree of main): its predict is measured too, as 'tagloop before'",
    )
    add_docs_arguments(parser, SECTION)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
