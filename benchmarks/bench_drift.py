"""Measure false alarms and detection of the drift and per-item OOD checks on real data.

Run ``python -m benchmarks.bench_drift`` (or ``make bench-drift``).  The dataset is
sorted by ``created_on``: the oldest 80% is the "same period", the newest
20% the "newer period".  For each of ``--splits`` random splits of the old
period, a tfidf-linear model is trained with :func:`ml.training.train_model`
on all but ``reference + window`` old items; its outputs on the held-out
old items are the reference and the in-distribution windows (disjoint from
each other), and its outputs on newer and off-topic items form the shifted
windows.  Off-topic texts come from ``data/offtopic_samples.jsonl`` (every
kind); the per-item checks are then judged kind by kind, leave-one-kind-out
(:mod:`benchmarks.bench_offtopic`).

Scenarios, ``--windows`` windows each:
  same-period   reference and window both held-out old items (false alarms)
  30% off-topic window = 70% held-out old items + 30% off-topic samples
  newer period  window drawn from the newest 20% of the dataset

The table (and, unless ``--no-docs`` or ``--no-write``, the "## Drift" section of
docs/benchmarks.md) gives how often each test fired at ``--alpha``.
"""

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from benchmarks.bench_offtopic import evaluate_with_sensitivity
from benchmarks.bench_offtopic import report_lines as item_check_lines
from benchmarks.common import add_docs_arguments
from benchmarks.markdown_section import replace_section
from ml.dataset import read_dataset_rows
from ml.drift import DriftTest, WindowData, overall_drift, run_window_checks
from ml.offtopic import TUNING, read_offtopic_samples
from ml.ood import default_encode, fit_ood_checks
from ml.prediction import predict
from ml.text import prepare_text
from ml.training import train_model

ALGORITHM = "tfidf-linear"
SCENARIOS = ("same period", "30% off-topic", "newer period")
ITEM_POOLS = ("held-out", "newer")
SECTION = "Drift"
NOTES = [
    "Notes:",
    "- Tests (`ml.drift.run_window_checks`): chi-squared homogeneity on predicted tags (rarest "
    "tags merged until every expected count is >= 5); two-sample KS on confidence, word count "
    "and OOV share (reference items scored leave-one-out against the other reference items); "
    "domain classifier = kernel ridge on TF-IDF, leave-one-out AUC against 999 label "
    "permutations (exact permutation p-value).",
    "- Same-period windows of one split are re-partitions of the same 250 held-out items, so "
    "they are correlated; 1000 windows over 10 splits keep the false-alarm estimates to "
    "about +/- 0.5 point.",
    "- Off-topic texts in the windows are every sample of data/offtopic_samples.jsonl (22 kinds, "
    "hand-written); the per-item table below shows how the checks fare on kinds they were not fitted on.",
    "- The newer period is mostly not drift by these tests: only the predicted-tag mix moves.",
]


@dataclass(frozen=True)
class Scored:
    """Prepared texts with one model's outputs for them."""

    texts: list[str]
    tags: list[str]
    confidences: list[float]

    def take(self, indices: Collection[int]) -> "Scored":  # a range, a list or a numpy array of positions
        return Scored(
            [self.texts[i] for i in indices], [self.tags[i] for i in indices], [self.confidences[i] for i in indices]
        )

    def __add__(self, other: "Scored") -> "Scored":
        return Scored(self.texts + other.texts, self.tags + other.tags, self.confidences + other.confidences)

    def window(self) -> WindowData:
        return WindowData(self.texts, self.tags, self.confidences)


@dataclass(frozen=True)
class Split:
    """One trained model and its outputs on the three pools windows are drawn from."""

    held_out: Scored
    newer: Scored
    offtopic: Scored
    item_rates: dict[str, float]


def main(argv: Sequence[str] | None = None) -> None:
    # The matrices here are ~250 x 250: a second BLAS thread only adds
    # contention (solve went from ~2.5 ms to ~6-47 ms with two threads on a
    # busy 2-core machine), so the benchmark runs BLAS single-threaded.
    with threadpool_limits(limits=1, user_api="blas"):
        _benchmark(_parse_args(argv))


def _benchmark(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    old, newer, labels = _time_split(args.dataset)
    offtopic = _offtopic_texts(args.offtopic)
    args.tuning_texts = _offtopic_texts(args.offtopic, tuning_only=True)
    counts: dict[str, dict[str, int]] = {scenario: {} for scenario in SCENARIOS}
    item_rates = []
    for split_number in range(args.splits):
        split = _prepare_split(old, labels, newer, offtopic, args, seed=args.seed + split_number)
        item_rates.append(split.item_rates)
        windows = _windows_per_split(args, split_number)
        _run_scenarios(split, windows, args, counts, seed=args.seed + split_number)
    item_checks = evaluate_with_sensitivity(args.dataset, args.offtopic)
    elapsed = time.perf_counter() - started
    report = _report(counts, args.windows, item_rates, args, elapsed, len(old) + len(newer))
    report += "\n\n" + "\n".join(item_check_lines(*item_checks))
    print(report)
    if args.docs is not None:
        replace_section(args.docs, SECTION, report)
        print(f"\nwrote the '## {SECTION}' section of {args.docs}")


def _time_split(dataset: Path) -> tuple[list[str], list[str], list[str]]:
    """Prepared texts of the oldest 80% (with their tags) and of the newest 20%."""
    rows = sorted(read_dataset_rows(dataset), key=lambda row: row.created_on)
    cut = int(len(rows) * 0.8)
    texts = [prepare_text(row.item.title, row.item.description) for row in rows]
    return texts[:cut], texts[cut:], [row.item.tag for row in rows[:cut]]


def _offtopic_texts(path: Path, *, tuning_only: bool = False) -> list[str]:
    samples = read_offtopic_samples(path)
    return [prepare_text(s.title, s.description) for s in samples if s.slice == TUNING or not tuning_only]


def _prepare_split(
    old: list[str], labels: list[str], newer: list[str], offtopic: list[str], args: argparse.Namespace, *, seed: int
) -> Split:
    order = np.random.default_rng(seed).permutation(len(old))
    held = order[: args.reference_size + args.window_size]
    train = order[args.reference_size + args.window_size :]
    train_texts = [old[i] for i in train]
    model = train_model(texts=train_texts, labels=[labels[i] for i in train], algorithm=ALGORITHM, random_state=seed)
    held_out, newer_scored, offtopic_scored = (
        _score(model, texts) for texts in ([old[i] for i in held], newer, offtopic)
    )
    # The positions of train_texts from oldest to newest (old is sorted by created_on).
    oldest_first = [int(k) for k in np.argsort(train, kind="stable")]
    item_rates = _item_rates(train_texts, oldest_first, args.tuning_texts, [held_out, newer_scored])
    return Split(held_out, newer_scored, offtopic_scored, item_rates=item_rates)


def _score(model: Pipeline, texts: list[str]) -> Scored:
    results = predict(model, texts)
    return Scored(list(texts), [r.tag for r in results], [r.confidence for r in results])


def _item_rates(
    train_texts: list[str], oldest_first: list[int], tuning_texts: list[str], scored: list[Scored]
) -> dict[str, float]:
    """Share of real items flagged by the per-item checks fitted on the model's training texts
    (off-topic detection is measured kind by kind, leave-one-kind-out: benchmarks.bench_offtopic).
    With the meaning part and in time order, as a retrain fits them (each text is encoded once, then
    cached); "... (random folds)": fitted on random folds, as before issue 14's time order."""
    rates = {}
    for label, order in (("", oldest_first), (" (random folds)", None)):
        checks = fit_ood_checks(train_texts, offtopic_texts=tuning_texts, encode=default_encode, oldest_first=order)
        for name, pool in zip(ITEM_POOLS, scored):
            rates[name + label] = float(np.mean([item.flagged for item in checks.check(pool.texts)]))
    return rates


def _windows_per_split(args: argparse.Namespace, split_number: int) -> int:
    base, extra = divmod(args.windows, args.splits)
    return base + (1 if split_number < extra else 0)


def _run_scenarios(
    split: Split, windows: int, args: argparse.Namespace, counts: dict[str, dict[str, int]], *, seed: int
) -> None:
    rng = np.random.default_rng(seed + 10_000)
    held, size = len(split.held_out.texts), args.window_size
    n_offtopic = round(size * args.offtopic_share)
    for _ in range(windows):
        order = rng.permutation(held)
        reference = split.held_out.take(order[: args.reference_size]).window()
        rest = split.held_out.take(order[args.reference_size :])
        shifted = {
            "same period": rest,
            "30% off-topic": rest.take(range(size - n_offtopic))
            + split.offtopic.take(rng.choice(len(split.offtopic.texts), n_offtopic, replace=False)),
            "newer period": split.newer.take(rng.choice(len(split.newer.texts), size, replace=False)),
        }
        for scenario, window in shifted.items():
            tests = run_window_checks(reference, window.window(), args.alpha, seed=seed)
            _count(counts[scenario], tests + [overall_drift(tests, args.alpha)])


def _count(tally: dict[str, int], tests: list[DriftTest]) -> None:
    for test in tests:
        tally[test.name] = tally.get(test.name, 0) + int(test.drifted)


def _report(
    counts: dict[str, dict[str, int]],
    windows: int,
    item_rates: list[dict[str, float]],
    args: argparse.Namespace,
    elapsed: float,
    items: int,
) -> str:
    names = list(counts[SCENARIOS[0]])
    header = "| test | " + " | ".join(SCENARIOS) + " |"
    lines = [header, "|" + " --- |" * (len(SCENARIOS) + 1)]
    for name in names:
        rates = [f"{counts[s].get(name, 0) / windows:.1%}" for s in SCENARIOS]
        lines.append(f"| {name} | " + " | ".join(rates) + " |")
    item_line, before = (
        ", ".join(f"{p} {np.mean([r[p + label] for r in item_rates]):.1%}" for p in ITEM_POOLS)
        for label in ("", " (random folds)")
    )
    command = " ".join(["python -m benchmarks.bench_drift", *args.argv])
    return "\n".join(
        [
            f"Measured {datetime.date.today().isoformat()} with `{command}` on "
            f"{os.cpu_count()} cores ({platform.python_implementation()} {platform.python_version()}), "
            f"{elapsed:.0f} s.",
            "",
            f"Dataset: {items} items sorted by created_on; same period = oldest 80%, newer period = "
            f"newest 20%. {args.splits} random splits of the old period: a `{ALGORITHM}` model "
            f"trained on the rest, reference = its outputs on {args.reference_size} held-out items, "
            f"window = {args.window_size} items. {windows} windows per scenario, alpha = {args.alpha}. "
            "Each cell is the share of windows in which the test fired (same period: false alarms; "
            "others: detection). The overall row is one alarm for all five tests, Bonferroni-"
            "corrected (alpha / 5 on the smallest p-value).",
            "",
            *lines,
            "",
            f"Per-item checks (`fit_ood_checks` on each split's training texts in time order and the tuning kinds "
            f"of off-topic samples, default quantile, with the meaning part): real items flagged — {item_line} "
            f"(fitted on random folds, as before: {before}).",
            "",
            *NOTES,
        ]
    )


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_drift", description="False alarms and detection of the drift checks."
    )
    parser.add_argument("--dataset", type=Path, default=Path("data/madewithml_dataset.csv"))
    parser.add_argument("--offtopic", type=Path, default=Path("data/offtopic_samples.jsonl"))
    add_docs_arguments(parser, SECTION)
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--reference-size", type=int, default=150)
    parser.add_argument("--window-size", type=int, default=100)
    parser.add_argument("--offtopic-share", type=float, default=0.3)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


if __name__ == "__main__":
    main()
