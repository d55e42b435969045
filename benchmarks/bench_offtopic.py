"""The per-item checks judged on kinds of off-topic text they were not fitted on, and on real items.

Part of ``make bench-drift`` (``python -m benchmarks.bench_drift``); ``python -m benchmarks.bench_offtopic`` prints
this part alone.  Everything is fitted on the oldest 80% of the dataset (by ``created_on``):

* leave-one-kind-out: for each kind of the ``tuning`` slice of ``data/offtopic_samples.jsonl``,
  the checks are fitted with the other tuning kinds as off-topic examples and judged on the kind
  left out: per kind, mean and worst;
* the ``never-tuned`` slice: fitted with every tuning kind, judged on kinds nobody tuned on;
* real items flagged: the newest 20% (time split), and each fold of a 5-fold CV over the whole
  dataset (fitted on the other folds), never on the texts a check was fitted on.
"""

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

from ml.dataset import read_dataset_rows
from ml.offtopic import DEFAULT_PATH, NEVER_TUNED, TUNING, by_kind, read_offtopic_samples
from ml.ood import OODChecks, fit_ood_checks
from ml.text import prepare_text

TARGET_MEAN, TARGET_WORST, TARGET_REAL = 0.95, 0.85, 0.02
CV_FOLDS = 5


@dataclass(frozen=True)
class KindRate:
    kind: str
    items: int
    flagged: float
    by_check: dict[str, int]  # how many items each check flagged (an item may count for several)


@dataclass(frozen=True)
class OfftopicReport:
    held_out_kinds: list[KindRate]
    never_tuned: list[KindRate]
    real_time_split: float
    real_cv: list[float]
    real_items: int
    seconds: float

    @property
    def mean(self) -> float:
        return float(np.mean([k.flagged for k in self.held_out_kinds]))

    @property
    def worst(self) -> KindRate:
        return min(self.held_out_kinds, key=lambda k: k.flagged)

    @property
    def real_pooled(self) -> float:
        return float(np.mean([self.real_time_split, *self.real_cv]))


def evaluate(dataset: Path, samples_path: Path = DEFAULT_PATH) -> OfftopicReport:
    started = time.perf_counter()
    rows = sorted(read_dataset_rows(dataset), key=lambda row: row.created_on)
    texts = [prepare_text(row.item.title, row.item.description) for row in rows]
    cut = int(len(texts) * 0.8)
    kinds = {
        kind: (group[0].slice, [prepare_text(s.title, s.description) for s in group])
        for kind, group in by_kind(read_offtopic_samples(samples_path)).items()
    }
    tuning = {kind: kind_texts for kind, (slice_, kind_texts) in kinds.items() if slice_ == TUNING}
    never = {kind: kind_texts for kind, (slice_, kind_texts) in kinds.items() if slice_ == NEVER_TUNED}
    old, newer = texts[:cut], texts[cut:]
    held_out = [
        _rate(kind, fit_ood_checks(old, offtopic_texts=_all_but(tuning, kind)), tuning[kind]) for kind in tuning
    ]
    everything = _all_but(tuning, None)
    full = fit_ood_checks(old, offtopic_texts=everything)
    never_rates = [_rate(kind, full, kind_texts) for kind, kind_texts in never.items()]
    real_cv = []
    for fit_part, test_part in KFold(CV_FOLDS, shuffle=True, random_state=0).split(texts):
        checks = fit_ood_checks([texts[i] for i in fit_part], offtopic_texts=everything)
        real_cv.append(_flagged_share(checks, [texts[i] for i in test_part]))
    return OfftopicReport(
        held_out_kinds=held_out,
        never_tuned=never_rates,
        real_time_split=_flagged_share(full, newer),
        real_cv=real_cv,
        real_items=len(texts),
        seconds=time.perf_counter() - started,
    )


def _all_but(kinds: dict[str, list[str]], left_out: str | None) -> list[str]:
    return [text for kind, kind_texts in kinds.items() if kind != left_out for text in kind_texts]


def _rate(kind: str, checks: OODChecks, texts: list[str]) -> KindRate:
    results = checks.check(texts)
    by_check: dict[str, int] = {}
    for result in results:
        for name, check in result.checks.items():
            by_check[name] = by_check.get(name, 0) + int(check.flagged)
    return KindRate(kind, len(texts), float(np.mean([r.flagged for r in results])), by_check)


def _flagged_share(checks: OODChecks, texts: list[str]) -> float:
    return float(np.mean([r.flagged for r in checks.check(texts)]))


def report_lines(report: OfftopicReport) -> list[str]:
    """Markdown for the "## Drift" section of docs/benchmarks.md."""
    worst = report.worst
    cv = ", ".join(f"{rate:.1%}" for rate in report.real_cv)
    return [
        "### Per-item checks on kinds they were not fitted on",
        "",
        f"`benchmarks.bench_offtopic` ({report.seconds:.0f} s): checks fitted on the oldest 80% of the dataset; "
        "off-topic examples from `data/offtopic_samples.jsonl`. Leave-one-kind-out: each tuning kind is "
        "judged by checks fitted with the other tuning kinds only. The never-tuned kinds were left out of "
        "every fit and every choice made while building the checks.",
        "",
        "| kind | slice | items | flagged | checks that fired |",
        "| --- | --- | --- | --- | --- |",
        *[_row(k, "held out") for k in report.held_out_kinds],
        *[_row(k, "never tuned") for k in report.never_tuned],
        "",
        f"- Held-out kinds: mean **{report.mean:.1%}** (target >= {TARGET_MEAN:.0%}), worst **{worst.flagged:.1%}** "
        f"({worst.kind}; target >= {TARGET_WORST:.0%}).",
        f"- Never-tuned kinds: {np.mean([k.flagged for k in report.never_tuned]):.1%} on average, worst "
        f"{min(k.flagged for k in report.never_tuned):.1%}.",
        f"- Real ML items flagged (target <= {TARGET_REAL:.0%}): newest 20% after fitting on the oldest 80%: "
        f"**{report.real_time_split:.1%}**; {CV_FOLDS}-fold CV over all {report.real_items} items: {cv} "
        f"(mean {np.mean(report.real_cv):.1%}, sd {np.std(report.real_cv):.1%}).",
    ]


def _row(rate: KindRate, slice_: str) -> str:
    fired = ", ".join(f"{name} {count}" for name, count in sorted(rate.by_check.items()) if count)
    return f"| {rate.kind} | {slice_} | {rate.items} | {rate.flagged:.0%} | {fired} |"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_offtopic", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("data/madewithml_dataset.csv"))
    parser.add_argument("--offtopic", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    print("\n".join(report_lines(evaluate(args.dataset, args.offtopic))))


if __name__ == "__main__":
    main()
