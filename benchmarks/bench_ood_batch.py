"""The out-of-distribution checks of a re-prediction chunk: one text at a time against the batch screen.

``python -m benchmarks.bench_ood_batch`` (no database) fits the checks as training does for tfidf-linear (every
dataset text; the tuning off-topic samples; no sentence vectors), then times, in the same process and in turn,
``OODChecks.flagged_reasons`` as it was (``_any_flag`` and, when flagged, ``_reasons``, one text at a time) and as
it is (``ml.ood_batch`` decides the batch), on chunks of 2,000 texts as a re-prediction worker gives it, the two
forms in turn on each chunk:

* ``dataset``: the dataset's prepared texts, repeated to ``--items``;
* ``bench items``: texts like the ones ``manage.py bench_rollout`` seeds for ``make bench-repredict``;
* ``off-topic``: the off-topic samples repeated (most are flagged, so reasons are written for them).

Prints the median over ``--rounds`` alternations of µs per item for each, their ratio, and the load average.
The results of the two are compared on every round (a difference stops the benchmark).
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable

from ml.offtopic import TUNING, read_offtopic_samples
from ml.ood import OODChecks, fit_ood_checks
from ml.text import prepare_text
from tests.test_ood_speed_equivalence import dataset_texts

CHUNK = 2000  # a re-prediction chunk (predictions.services.batch)
WORDS = ["images", "transformers", "deployment", "graphs", "detection", "language", "pipelines", "robots"]


def one_at_a_time(checks: OODChecks, texts: list[str]) -> list[dict[str, str]]:
    """flagged_reasons as it was before ml.ood_batch: every text through the one-text check."""
    return [checks._reasons(text, None) if checks._any_flag(text, None) else {} for text in texts]


def bench_items(count: int) -> list[str]:
    """Texts shaped like manage.py bench_rollout's stream items."""
    return [
        prepare_text(f"Item {i}: {WORDS[i % 8]} and {WORDS[(i * 7) % 8]}", f"Notes on {WORDS[(i * 3) % 8]}.")
        for i in range(40_000, 40_000 + count)
    ]


def timed_in_turn(
    before: Callable[[list[str]], list[dict[str, str]]], after: Callable[[list[str]], list[dict[str, str]]], texts
) -> tuple[float, float, bool]:
    """µs per item of each, chunk by chunk in turn (so both see the same load), and whether they agree."""
    spent, same = [0.0, 0.0], True
    for start in range(0, len(texts), CHUNK):
        chunk, results = texts[start : start + CHUNK], []
        for n, work in enumerate((before, after)):
            began = time.perf_counter()
            results.append(work(chunk))
            spent[n] += time.perf_counter() - began
        same = same and results[0] == results[1]
    return spent[0] / len(texts) * 1e6, spent[1] / len(texts) * 1e6, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    samples = read_offtopic_samples()
    offtopic = [prepare_text(s.title, s.description) for s in samples]
    tuning = [text for text, s in zip(offtopic, samples) if s.slice == TUNING]
    dataset = dataset_texts()
    checks = fit_ood_checks(dataset, offtopic_texts=tuning)
    inputs = {
        "dataset": (dataset * (args.items // len(dataset) + 1))[: args.items],
        "bench items": bench_items(args.items),
        "off-topic": (offtopic * (args.items // len(offtopic) + 1))[: args.items],
    }
    print(f"load average at the start: {_load()}; {args.items:,} texts per set, chunks of {CHUNK:,}")
    print("| texts | flagged | one at a time, µs/item | batch, µs/item (first round) | ratio |")
    print("|---|---|---|---|---|")
    for name, texts in inputs.items():
        before, after, first = [], [], None
        for _ in range(args.rounds):
            one, batch, same = timed_in_turn(lambda chunk: one_at_a_time(checks, chunk), checks.flagged_reasons, texts)
            if not same:
                raise SystemExit(f"{name}: the batch form's reasons differ from the one-text check's")
            before.append(one)
            after.append(batch)
            first = batch if first is None else first
        expected = one_at_a_time(checks, texts)
        flagged = sum(1 for reasons in expected if reasons) / len(texts)
        b, a = statistics.median(before), statistics.median(after)
        print(f"| {name} | {flagged:.1%} | {b:.1f} | {a:.1f} ({first:.1f}) | {b / a:.1f}× |")
    print(f"load average at the end: {_load()}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
