"""CPU time of one request inside Django: the predict API against plain Django, no server, no network.

    python -m benchmarks.bench_request_cost [--requests 1000] [--rounds 5] [--baseline-tree PATH] [--no-write]

bench_serve_plain measures the whole stack under wrk, where gunicorn, the kernel and wrk itself
share the two cores and a loaded machine moves every figure by tens of percent. This one calls
the WSGI application in a loop (``benchmarks.serving.settings``, the same model and database)
and takes the process's CPU time per request, which the other work on the machine disturbs
far less: ``/bench/plain`` (Django answering fixed JSON) and tagloop's ``POST /api/v1/predict``
with a random title and description of the dataset per request, alternating, ``--rounds``
times; medians. With ``--baseline-tree PATH`` (another checkout, e.g. a worktree of main) the
same loop runs there too, each checkout in its own process, in turn, so before and after are
measured in the same run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

SECTION = "Serving: CPU per request in process"
PATHS = {"plain Django": "/bench/plain", "tagloop /api/v1/predict": "/api/v1/predict"}


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    if args.child:
        print(json.dumps(_child(requests=args.requests)))
        return
    import shutil
    import tempfile

    from benchmarks.bench_serve import REPO, bench_environment, load_average, setup_and_measure_in_process

    work = Path(tempfile.mkdtemp(prefix="tagloop-bench-cost-"))
    try:
        env = bench_environment(work)
        version, _ = setup_and_measure_in_process(calls=0, algorithm=args.algorithm)
        trees = {"after": REPO, **({"before": args.baseline_tree} if args.baseline_tree else {})}
        runs = []
        for round_number in range(args.rounds):
            order = list(trees) if round_number % 2 == 0 else list(reversed(trees))
            for name in order:
                figures = _run_child(trees[name], env, requests=args.requests)
                runs.append({"tree": name, **figures, "load": load_average()})
                print(_run_line(runs[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = _report(runs, trees=trees, version=version, args=args, argv=argv)
    print(body)
    if args.docs is not None:
        from benchmarks.markdown_section import replace_section

        replace_section(args.docs, f"{SECTION}, {args.algorithm}", body)
        print(f"\nwrote the '## {SECTION}, {args.algorithm}' section of {args.docs}")


def _run_child(tree: Path, env: dict, *, requests: int) -> dict:
    """This file run by path in ``tree``'s directory, so Django, tagloop and its settings are that checkout's."""
    child_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.serving.settings", "PYTHONPATH": str(tree)}
    # -P: the script's own folder (benchmarks/, whose common.py would shadow the common app) is not on sys.path.
    command = [sys.executable, "-P", str(Path(__file__).resolve()), "--child", "--requests", str(requests)]
    output = subprocess.run(command, cwd=tree, env=child_env, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _child(*, requests: int) -> dict:
    """Imports Django and the checkout's WSGI application only: the code measured is the checkout's."""
    import csv
    import io
    import random
    import time

    from config.wsgi import application  # warms: the model is loaded and compiled

    with open("data/madewithml_dataset.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    chosen = random.Random(0)
    bodies = [
        json.dumps({"title": chosen.choice(rows)["title"], "description": chosen.choice(rows)["description"]}).encode()
        for _ in range(500)
    ]
    statuses: dict[str, int] = {}

    def start_response(status, headers, exc_info=None):
        statuses[status] = statuses.get(status, 0) + 1

    def call(path: str, body: bytes) -> None:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        response = application(environ, start_response)
        b"".join(response)
        response.close()

    def cpu_per_request(path: str) -> float:
        started = time.process_time()
        for index in range(requests):
            call(path, bodies[index % len(bodies)])
        return (time.process_time() - started) / requests * 1e6

    for path in PATHS.values():  # first calls: connections, caches
        cpu_per_request(path)
    figures = {name: cpu_per_request(path) for name, path in PATHS.items()}
    if set(statuses) != {"200 OK"}:
        raise SystemExit(f"unexpected answers: {statuses}")
    return figures


def _run_line(run: dict) -> str:
    plain, ours = run["plain Django"], run["tagloop /api/v1/predict"]
    return (
        f"{run['tree']:<6}: plain Django {plain:6.0f} us, predict {ours:6.0f} us CPU per request "
        f"({ours / plain:.2f} x plain), load {run['load']}"
    )


def _report(runs: list[dict], *, trees: dict, version: str, args: argparse.Namespace, argv: list[str] | None) -> str:
    import platform

    from benchmarks.bench_serve_plain import _tree_commit
    from benchmarks.common import command_line, utc_minute

    loads = sorted({run["load"] for run in runs}, key=lambda load: float(load) if load != "n/a" else 0.0)
    lines = [
        f"`{command_line('benchmarks.bench_request_cost', argv)}`, {utc_minute()}, {platform.machine()} with "
        f"{os.cpu_count()} CPUs, 1-minute load average {loads[0]}–{loads[-1]} during the run (the machine is shared "
        f"with other engineers' work). In process, through the WSGI application (no server, no network), "
        f"benchmarks.serving.settings, model {version}; {args.requests} requests per figure, varied texts, "
        f"{args.rounds} rounds, the checkouts in turn; medians of the process's CPU time per request.",
        "",
        "| checkout | plain Django µs | tagloop predict µs | predict / plain |",
        "|---|---:|---:|---:|",
    ]
    for name, tree in trees.items():
        mine = [run for run in runs if run["tree"] == name]
        plain = statistics.median(run["plain Django"] for run in mine)
        ours = statistics.median(run["tagloop /api/v1/predict"] for run in mine)
        lines.append(f"| {name} ({_tree_commit(tree)}) | {plain:.0f} | {ours:.0f} | {ours / plain:.2f} |")
    lines += ["", "Each run, in order:", "", *(f"- {_run_line(run)}" for run in runs)]
    return "\n".join(lines)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_request_cost", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--algorithm", default="tfidf-linear", help="the model served")
    parser.add_argument("--requests", type=int, default=1000, help="requests per figure")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-tree", type=Path, help="another checkout of tagloop, measured in turn")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    from benchmarks.common import add_docs_arguments

    add_docs_arguments(parser, SECTION)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
