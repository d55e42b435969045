"""Does a tag the model never learnt surface as an emerging topic?  ``make bench-emerging``.

Simulation on the dataset, sorted by ``created_on``: for each tag in turn, a ``tfidf-linear`` model
and its per-item checks (with the tuning slice of the off-topic samples) are fitted on the oldest
80% *without that tag's items*; the newest 20% is streamed through it.  The candidates are the
items production would send to people: confidence below the model's review threshold (the 95%
precision operating point of 5-fold out-of-fold predictions on its training data, as a retrain
sets it) or flagged by the per-item checks.  :func:`ml.emerging.find_clusters` groups them.

Per dropped tag: whether the top cluster is mostly that tag, its purity (share of its items with
the dropped tag), and recall (share of the dropped tag's newer items in that cluster).  Goal: the
dropped tag is the top cluster with purity >= 0.8.  Rewrites "## Emerging topics" in
docs/benchmarks.md.
"""

import argparse
import datetime
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.model_selection import StratifiedKFold

from benchmarks.markdown_section import replace_section
from ml.dataset import read_dataset_rows
from ml.emerging import find_clusters
from ml.offtopic import TUNING, read_offtopic_samples
from ml.ood import fit_ood_checks
from ml.operating_point import operating_point
from ml.prediction import predict
from ml.text import prepare_text
from ml.training import train_model

ALGORITHM = "tfidf-linear"
SECTION = "Emerging topics"
PURITY_GOAL = 0.8
MIN_SIZE = 5


@dataclass(frozen=True)
class Outcome:
    dropped: str
    dropped_newer: int  # the dropped tag's items in the newer period
    candidates: int
    dropped_in_candidates: int
    clusters: int
    top_tag: str | None
    top_size: int
    top_purity: float
    top_recall: float
    top_terms: list[str]

    @property
    def met(self) -> bool:
        return self.top_tag == self.dropped and self.top_purity >= PURITY_GOAL


def simulate(dataset: Path, dropped: str, *, random_state: int = 0) -> Outcome:
    rows = sorted(read_dataset_rows(dataset), key=lambda row: row.created_on)
    texts = [prepare_text(row.item.title, row.item.description) for row in rows]
    tags = [row.item.tag for row in rows]
    cut = int(len(rows) * 0.8)
    train = [i for i in range(cut) if tags[i] != dropped]
    train_texts, train_tags = [texts[i] for i in train], [tags[i] for i in train]
    model = train_model(texts=train_texts, labels=train_tags, algorithm=ALGORITHM, random_state=random_state)
    threshold = _review_threshold(train_texts, train_tags, random_state)
    offtopic = [prepare_text(s.title, s.description) for s in read_offtopic_samples() if s.slice == TUNING]
    checks = fit_ood_checks(train_texts, offtopic_texts=offtopic, random_state=random_state)
    newer = list(range(cut, len(rows)))
    newer_texts = [texts[i] for i in newer]
    results, flags = predict(model, newer_texts), checks.check(newer_texts)
    candidates = [i for i, result, flag in zip(newer, results, flags) if flag.flagged or result.confidence < threshold]
    clusters = find_clusters([texts[i] for i in candidates], train_texts, min_size=MIN_SIZE)
    dropped_newer = sum(tags[i] == dropped for i in newer)
    dropped_in_candidates = sum(tags[i] == dropped for i in candidates)
    counts = (dropped, dropped_newer, len(candidates), dropped_in_candidates, len(clusters))
    if not clusters:
        return Outcome(*counts, top_tag=None, top_size=0, top_purity=0.0, top_recall=0.0, top_terms=[])
    top = clusters[0]
    member_tags = Counter(tags[candidates[m]] for m in top.members)
    top_tag, _ = member_tags.most_common(1)[0]
    return Outcome(
        *counts,
        top_tag=top_tag,
        top_size=top.size,
        top_purity=member_tags[dropped] / top.size,
        top_recall=member_tags[dropped] / max(dropped_newer, 1),
        top_terms=top.top_terms,
    )


def _review_threshold(texts: list[str], labels: list[str], random_state: int) -> float:
    """The 95%-precision operating point of out-of-fold predictions (1.0, everything unsure, if none)."""
    oof, truth = [], []
    for fit_part, score_part in StratifiedKFold(5, shuffle=True, random_state=random_state).split(texts, labels):
        model = train_model(
            texts=[texts[i] for i in fit_part],
            labels=[labels[i] for i in fit_part],
            algorithm=ALGORITHM,
            random_state=random_state,
        )
        oof += predict(model, [texts[i] for i in score_part])
        truth += [labels[i] for i in score_part]
    threshold = operating_point(oof, truth)["threshold"]
    return 1.0 if threshold is None else threshold


def report(outcomes: list[Outcome], seconds: float, command: str) -> str:
    lines = [
        f"Measured {datetime.date.today().isoformat()} with `{command}` ({seconds:.0f} s).",
        "",
        "Each row: the tag dropped from the oldest 80% before training; the newest 20% streamed; candidates = "
        "items below the review threshold or flagged by the per-item checks; clusters by `ml.emerging`.",
        "",
        "| dropped tag | its newer items | candidates (of them dropped tag) | clusters | top cluster: "
        "majority tag | size | purity | recall | top terms | goal met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.dropped} | {o.dropped_newer} | {o.candidates} ({o.dropped_in_candidates}) | {o.clusters} | "
            f"{o.top_tag or '-'} | {o.top_size} | {o.top_purity:.2f} | {o.top_recall:.2f} | "
            f"{', '.join(o.top_terms[:6])} | {'yes' if o.met else 'no'} |"
        )
    met = sum(o.met for o in outcomes)
    lines += [
        "",
        f"Goal (the dropped tag is the top cluster, purity >= {PURITY_GOAL}): met for {met} of {len(outcomes)} "
        "dropped tags. Recall is the share of the dropped tag's newer items that land in that one cluster.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_emerging", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("data/madewithml_dataset.csv"))
    parser.add_argument("--docs", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--tags", nargs="*", help="tags to drop, one run each (default: every tag)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tags = args.tags or sorted({row.item.tag for row in read_dataset_rows(args.dataset)})
    outcomes = [simulate(args.dataset, tag) for tag in tags]
    text = report(
        outcomes, time.perf_counter() - started, " ".join(["python -m benchmarks.bench_emerging", *(argv or [])])
    )
    print(text)
    if not args.no_write:
        replace_section(args.docs, SECTION, text)
        print(f"\nwrote the '## {SECTION}' section of {args.docs}")


if __name__ == "__main__":
    main()
