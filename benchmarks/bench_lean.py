"""Single-item prediction: the scikit-learn pipeline against its compiled form, in one run.

Run ``python -m benchmarks.bench_lean [--dataset PATH] [--passes 3] [--docs docs/benchmarks.md |
--no-docs]`` (or ``make bench-lean``).

For each linear algorithm this trains on the whole dataset, compiles the model
(:mod:`ml.compiled`) and times :func:`ml.prediction.predict` on one prepared text at a
time, every item of the dataset in turn, pipeline and compiled form alternating
item by item so both see the same machine.  It also reports the largest
difference between the two forms' probabilities over the dataset.  For
embeddings-linear every text's embedding is computed once beforehand (both
forms read the same per-process cache), so its rows time the model without the
encoder, which the compiled form calls unchanged.
"""

from dataclasses import dataclass

import numpy as np

from benchmarks.common import add_docs_arguments, argument_parser, command_line, elapsed_ms, p50_p99, utc_minute
from benchmarks.machine import cpu_model, load_average
from benchmarks.markdown_section import replace_section
from ml.algorithms import NEEDS_EMBEDDINGS
from ml.compiled import compile_pipeline
from ml.dataset import read_labelled_csv
from ml.embeddings import cached_encode, embeddings_available
from ml.prediction import predict
from ml.text import prepare_text
from ml.training import train_model

ALGORITHMS = ("tfidf-linear", "embeddings-linear")
MODULE = "benchmarks.bench_lean"  # as run: under python -m, __name__ is "__main__"
DOCS_SECTION = "Lean predict"


@dataclass(frozen=True)
class Row:
    algorithm: str
    calls: int
    pipeline_ms: tuple[float, float]  # p50, p99
    compiled_ms: tuple[float, float]
    max_difference: float


def measure(algorithm: str, texts: list[str], labels: list[str], *, passes: int) -> Row:
    pipeline = train_model(texts=texts, labels=labels, algorithm=algorithm)
    compiled = compile_pipeline(pipeline)
    if compiled is None:
        raise SystemExit(f"{algorithm} did not compile")
    if algorithm in NEEDS_EMBEDDINGS:
        cached_encode(texts)
    difference = float(np.abs(pipeline.predict_proba(texts) - compiled.predict_proba(texts)).max())
    timings: dict[str, list[float]] = {"pipeline": [], "compiled": []}
    for index, text in enumerate(texts * passes):
        order = (("pipeline", pipeline), ("compiled", compiled))
        for name, model in order if index % 2 else reversed(order):
            timings[name].append(elapsed_ms(predict, model, [text]))
    return Row(
        algorithm=algorithm,
        calls=len(timings["compiled"]),
        pipeline_ms=p50_p99(timings["pipeline"]),
        compiled_ms=p50_p99(timings["compiled"]),
        max_difference=difference,
    )


def report(rows: list[Row], *, command: str, load_before: str, skipped: list[str]) -> str:
    lines = [
        f"`{command}`, {utc_minute()}, {cpu_model()}, "
        f"1-minute load average {load_before} before and {load_average()} after the run (the machine is shared: "
        "other test suites may have been running). Each algorithm trained on the whole Made With ML dataset; "
        "`ml.prediction.predict` on one prepared text per call, every item in turn, the pipeline and the "
        "compiled form (ml.compiled) alternating item by item.",
        "",
        "| algorithm | calls each | pipeline p50 ms | pipeline p99 ms | compiled p50 ms | compiled p99 ms "
        "| p50 speed-up | largest probability difference |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.algorithm} | {row.calls} | {row.pipeline_ms[0]:.3f} | {row.pipeline_ms[1]:.3f} | "
            f"{row.compiled_ms[0]:.3f} | {row.compiled_ms[1]:.3f} | "
            f"{row.pipeline_ms[0] / row.compiled_ms[0]:.1f}x | {row.max_difference:.1e} |"
        )
    if any(row.algorithm in NEEDS_EMBEDDINGS for row in rows):
        lines += [
            "",
            "embeddings-linear: each text's embedding was cached first, so the rows time the model "
            "without the encoder (which both forms call the same way).",
        ]
    if skipped:
        lines += ["", f"Not measured (optional packages missing): {', '.join(skipped)}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser(MODULE, __doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3, help="times over the dataset (default 3)")
    add_docs_arguments(parser, DOCS_SECTION)
    args = parser.parse_args(argv)
    load_before = load_average()
    items = read_labelled_csv(args.dataset)
    texts = [prepare_text(item.title, item.description) for item in items]
    labels = [item.tag for item in items]
    algorithms = [name for name in ALGORITHMS if name not in NEEDS_EMBEDDINGS or embeddings_available()]
    rows = [measure(name, texts, labels, passes=args.passes) for name in algorithms]
    body = report(
        rows,
        command=command_line(MODULE, argv),
        load_before=load_before,
        skipped=[name for name in ALGORITHMS if name not in algorithms],
    )
    print(body)
    if args.docs is not None:
        replace_section(args.docs, DOCS_SECTION, body)
        print(f"\nwrote the '## {DOCS_SECTION}' section of {args.docs}")


if __name__ == "__main__":
    main()
