"""How long a saved model takes to load, against sklearn's own vectorizer in the same run.

Run ``python -m benchmarks.bench_load [--dataset PATH] [--loads 20] [--docs docs/benchmarks.md
| --no-docs]`` (or ``make bench-load``).

A web or worker process loads a model on its first prediction, and a
candidate's page loads two.  For each TF-IDF algorithm this trains on the
whole dataset, saves the model twice - as it ships (CompactTfidfVectorizer,
vocabulary as one array) and with its vectorizers turned back into sklearn's
TfidfVectorizer, the format of models saved before - and times
:func:`ml.persistence.load_model` on each, alternating, so both see the same
machine.  Embedding models are timed without loading the encoder, which is
not part of the artifact.
"""

import argparse
import copy
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer

from benchmarks.common import add_docs_arguments, argument_parser, command_line, elapsed_ms, utc_minute
from benchmarks.machine import cpu_model, load_average
from benchmarks.markdown_section import replace_section
from ml.algorithms import NEEDS_EMBEDDINGS
from ml.dataset import read_dataset_rows
from ml.embeddings import embeddings_available
from ml.features import CompactTfidfVectorizer
from ml.persistence import load_model, save_model
from ml.text import prepare_text
from ml.training import train_model

ALGORITHMS = ("tfidf-linear", "embeddings-linear")
MODULE = "benchmarks.bench_load"  # as run: under python -m, __name__ is "__main__"
DOCS_SECTION = "Model loading"


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p99_ms: float
    megabytes: float


@dataclass(frozen=True)
class Row:
    algorithm: str
    shipped: Timing
    plain: Timing

    @property
    def ratio(self) -> float:
        return self.shipped.median_ms / self.plain.median_ms


def with_plain_vectorizers(model):
    """A copy of ``model`` whose CompactTfidfVectorizers are sklearn's TfidfVectorizer, same state."""
    plain = copy.deepcopy(model)
    for _, step in plain.named_steps["features"].transformer_list:
        if isinstance(step, CompactTfidfVectorizer):
            step.__class__ = TfidfVectorizer
    return plain


def benchmark(algorithm: str, texts: list[str], tags: list[str], loads: int, directory: Path) -> Row:
    model = train_model(texts=texts, labels=tags, algorithm=algorithm, random_state=0)
    saved = {
        name: save_model(variant, directory=directory, name=f"{algorithm}-{name}", metadata={})
        for name, variant in (("shipped", model), ("plain", with_plain_vectorizers(model)))
    }
    milliseconds: dict[str, list[float]] = {name: [] for name in saved}
    for _ in range(loads):
        for name, artifact in saved.items():
            milliseconds[name].append(elapsed_ms(load_model, artifact.path, expected_sha256=artifact.sha256))
    return Row(algorithm, *(_timing(milliseconds[name], saved[name].path) for name in ("shipped", "plain")))


def format_table(rows: Sequence[Row]) -> str:
    lines = [
        "| algorithm | load as shipped: median / p99 | artifact | sklearn's vectorizer: median / p99 "
        "| artifact | shipped / sklearn's |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row.algorithm} | {row.shipped.median_ms:.0f} / {row.shipped.p99_ms:.0f} ms "
            f"| {row.shipped.megabytes:.2f} MB | {row.plain.median_ms:.0f} / {row.plain.p99_ms:.0f} ms "
            f"| {row.plain.megabytes:.2f} MB | {row.ratio:.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    load_before = load_average()
    rows = read_dataset_rows(args.dataset)
    texts = [prepare_text(row.item.title, row.item.description) for row in rows]
    tags = [row.item.tag for row in rows]
    names = [name for name in ALGORITHMS if name not in NEEDS_EMBEDDINGS or embeddings_available()]
    results = []
    with tempfile.TemporaryDirectory() as directory:
        for name in names:
            print(f"  {name}: training, then {args.loads} loads of each artifact", file=sys.stderr, flush=True)
            results.append(benchmark(name, texts, tags, args.loads, Path(directory)))
    table = format_table(results)
    print(table)
    if args.docs is not None:
        replace_section(
            args.docs,
            DOCS_SECTION,
            "\n\n".join(
                [
                    f"Measured {utc_minute()} with `{command_line(MODULE, argv)}` on "
                    f"{cpu_model()}; 1-minute load average {load_before} before, {load_average()} after. "
                    f"Each model trained on the {len(rows)} dataset items, then loaded {args.loads} times "
                    "per artifact, alternating (`ml.persistence.load_model`: sha256 check, type check, build).",
                    table,
                    "\"sklearn's vectorizer\" is the same fitted model saved with sklearn's TfidfVectorizer, "
                    "as models were saved before CompactTfidfVectorizer; such artifacts still load. Both columns "
                    "use today's load_model, which walks the artifact once; until 2026-11-29 it walked it twice "
                    "(once to list untrusted types), and a tfidf-linear model took 1.2-1.5 s to load.",
                ]
            ),
        )
        print(f"wrote the '{DOCS_SECTION}' section of {args.docs}")


def _timing(milliseconds: list[float], path: Path) -> Timing:
    # p99 here is the nearest rank: with 20 loads it is the slowest one.
    ordered = sorted(milliseconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return Timing(statistics.median(ordered), p99, path.stat().st_size / 1e6)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argument_parser(MODULE, __doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=20)
    add_docs_arguments(parser, DOCS_SECTION)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
