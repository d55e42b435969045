"""Does the review threshold keep its precision promise on a stream that moved?  (``make bench-trust``)

The dataset is sorted by ``created_on``.  A model is trained on the older items, as the
system trains: its random-CV threshold (out-of-fold operating point at the target
precision), and its time-ordered validation (:mod:`ml.time_validation`: the newest
slices of the training items, each predicted by a model of the items before it) with the
threshold that evidence proves (:func:`ml.trust.prior_threshold`).  The newer items
arrive one by one, in order.  Each item is auto-accepted when its confidence reaches the
threshold in force for the stream, and is an audit sample by a per-item hash draw at the
audit share in force (as ``labeling.services.review.is_audit_sample`` draws, salted by
the seed so that seeds draw different samples).  An audit is answered from the item's
gold label ``--lag`` items later; each answer runs the policy (:func:`ml.trust.decide`),
as the worker does.

Three modes.  *off*: the random-CV threshold and the base audit share throughout (the
old design without its live policy).  *start only*: the system's own threshold now (the
stricter of the CV one and the time-validated one), nothing live.  *on*: that start, the
live policy with the time-ordered validation as its prior, and front-loaded audits.  The
policy's target is the goal itself: a threshold may run at most a ``--risk`` chance that a
window of ``--window-items`` items misses the target, given the evidence
(:func:`ml.trust.window_risk`), and an audited error among the last window's accepted
items counts against the rest of it.  The stream is cut into ``--windows`` equal windows; for each, the precision of the
auto-accepted items (all of them, measured on the gold labels, not only the audited
ones), automation (the share auto-accepted) and the audits answered.

Two streams, so that nothing is chosen on the figures reported: the *tuning* stream
(train on the oldest 60%, stream the next 20%), on which the defaults were chosen, and
the *reported* stream (train on the oldest 80%, stream the newest 20%: the dataset's time
split); the older streams (30/40/50%) and the trade-off across allowed risks show how far a
setting generalises.  ``--scenario tuning`` runs the tuning stream alone (and the older streams), for
choosing without seeing the reported one.  Results go to stdout and, for the full run
unless ``--no-write``, to the "## Trust" section of docs/benchmarks.md.
"""

import datetime
import hashlib
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from benchmarks.common import add_docs_arguments, argument_parser, command_line
from benchmarks.loop_simulation import LoopConfig, review_threshold
from benchmarks.machine import load_average
from benchmarks.markdown_section import replace_section
from ml.algorithms import DEFAULT_ALGORITHM
from ml.dataset import read_dataset_rows
from ml.prediction import predict
from ml.second_opinion import rules_opinion, scored_validation
from ml.text import prepare_text
from ml.time_validation import time_ordered_predictions
from ml.training import train_model
from ml.trust import RAISE, Audit, TrustSettings, decide, prior_threshold

MODULE = "benchmarks.bench_trust"
SECTION = "Trust"
GOAL = 0.95
WINDOW_AUDITS = 200  # the sliding window of audits, as the service's default (TAGLOOP_TRUST_WINDOW_AUDITS)


@dataclass(frozen=True)
class Scenario:
    name: str
    train_share: float  # the oldest share trains the model
    stream_share: float  # the next share is streamed


TUNING = Scenario("tuning (train oldest 60%, stream next 20%)", 0.6, 0.2)
REPORTED = Scenario("reported (train oldest 80%, stream newest 20%)", 0.8, 0.2)
SCENARIOS = {"tuning": (TUNING,), "reported": (REPORTED,), "both": (TUNING, REPORTED)}
# Older streams, all before the reported one: how far the design holds where it could have been tuned.
OLDER = tuple(Scenario(f"train oldest {cut:.0%}, stream next 20%", cut, 0.2) for cut in (0.3, 0.4, 0.5))
# The time-ordered validation, as training runs it (TAGLOOP_TRUST_TIME_FOLDS, TAGLOOP_TRUST_TIME_SHARE).
TIME_FOLDS = 3
TIME_SHARE = 0.2


@dataclass(frozen=True)
class Item:
    key: str  # the row id: the audit draw's input
    confidence: float
    correct: bool


@dataclass
class Run:
    """One pass over the stream: what happened to each item, and the threshold changes."""

    accepted: list[bool] = field(default_factory=list)
    audited: list[bool] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)
    changes: list[tuple[int, str, float, float]] = field(default_factory=list)  # (item, action, old, new)


def is_audit(key: str, *, share: float, seed: int) -> bool:
    """The system's draw (a sha256 of the item), salted by the seed."""
    digest = hashlib.sha256(f"audit:{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def stream_once(
    items: Sequence[Item],
    *,
    base: float,
    settings: TrustSettings,
    on: bool,
    seed: int,
    lag: int,
    prior: Sequence[Audit] = (),
) -> Run:
    run = Run()
    threshold, share = base, settings.base_audit_share
    if on:
        share = decide(
            window=[], new=[], base_threshold=base, current_threshold=base, settings=settings, prior=prior
        ).audit_share
    answered: list[tuple[int, Audit]] = []  # (item index, audit), in answer order
    since_change = 0  # answered[since_change:] are new evidence
    pending: list[tuple[int, int, Audit]] = []  # (answer due at item index, item index, audit)
    spent = 0
    for index, item in enumerate(items):
        due = [p for p in pending if p[0] <= index]
        pending = [p for p in pending if p[0] > index]
        answered += [(k, audit) for _, k, audit in due]
        # Errors found among the accepted items of the window (the last window_items items); as the service counts.
        now_spent = sum(
            not audit.correct and run.accepted[k] for k, audit in answered if k >= index - settings.window_items
        )
        if on and (due or now_spent != spent):
            audits = [audit for _, audit in answered]
            decision = decide(
                window=audits[-WINDOW_AUDITS:],
                new=audits[since_change:],
                base_threshold=base,
                current_threshold=threshold,
                settings=settings,
                prior=prior,
                spent=now_spent,
            )
            if decision.threshold != threshold:
                run.changes.append((index, decision.action, threshold, decision.threshold))
                threshold, since_change = decision.threshold, len(answered)
            share = decision.audit_share
        spent = now_spent
        run.thresholds.append(threshold)
        run.accepted.append(item.confidence >= threshold)
        audited = is_audit(item.key, share=share, seed=seed)
        run.audited.append(audited)
        if audited:
            pending.append((index + lag, index, Audit(item.confidence, item.correct)))
    return run


def window_figures(items: Sequence[Item], run: Run, windows: int) -> list[dict]:
    size = len(items)
    bounds = [round(size * k / windows) for k in range(windows + 1)]
    figures = []
    for start, end in zip(bounds, bounds[1:]):
        accepted = [k for k in range(start, end) if run.accepted[k]]
        right = sum(items[k].correct for k in accepted)
        figures.append(
            {
                "items": end - start,
                "accepted": len(accepted),
                "precision": right / len(accepted) if accepted else None,
                "automation": len(accepted) / (end - start),
                "audits": sum(run.audited[start:end]),
            }
        )
    return figures


@dataclass(frozen=True)
class Prepared:
    """A scenario's stream as the trained model sees it, with both starting thresholds."""

    items: list[Item]
    cv_threshold: float  # the random-CV operating point (the old design's own threshold)
    prior: list[Audit]  # the time-ordered validation's items (ml.time_validation)
    start_threshold: float  # the new design's: the stricter of the CV point and the prior's proven one
    info: dict
    full_prior: list[Audit] = field(default_factory=list)  # the validation's items, even when they prove nothing
    off_items: list[Item] = field(default_factory=list)  # the bare confidences, which the old design ('off') judges


def split_in_time(rows, scenario: Scenario) -> tuple[list, list]:
    """The scenario's training items (its oldest share) and the stream that follows them, in time order."""
    ordered = sorted(rows, key=lambda row: (row.created_on, row.id))
    cut = round(len(ordered) * scenario.train_share)
    end = round(len(ordered) * (scenario.train_share + scenario.stream_share))
    return ordered[:cut], ordered[cut:end]


def prepare(rows, scenario: Scenario, args, settings: TrustSettings) -> Prepared:
    """Train on the scenario's older items, as the system does; predict its stream. Done once per scenario."""
    train, stream = split_in_time(rows, scenario)
    texts = [prepare_text(r.item.title, r.item.description) for r in train]
    tags = [r.item.tag for r in train]
    model = train_model(texts=texts, labels=tags, algorithm=args.algorithm, random_state=0)
    base, source = review_threshold(texts, tags, LoopConfig(cv_folds=5, algorithm=args.algorithm, seed=0))
    # Timed after the CV, which encoded every text: the fits' own cost, as a retrain with stored embeddings pays it.
    started = time.perf_counter()
    train_model(texts=texts, labels=tags, algorithm=args.algorithm, random_state=0)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    validation = time_ordered_predictions(
        texts, tags, algorithm=args.algorithm, folds=args.time_folds, share=args.time_share, random_state=0
    )
    # The trust score (ml.second_opinion): confidence and the keyword rules' opinion, fitted on the validation.
    score, prior = (
        scored_validation(validation, texts) if args.second_opinion else (None, [v.audit for v in validation])
    )
    validation_seconds = time.perf_counter() - started
    full_prior = prior
    proven = prior_threshold(prior, settings)
    if proven is None:
        prior = []  # too small to prove the target: neither a start nor a prior, as in training
    start = base if proven is None else max(base, proven)
    stream_texts = [prepare_text(r.item.title, r.item.description) for r in stream]
    results = predict(model, stream_texts)
    off_items = [Item(r.id, p.confidence, p.tag == r.item.tag) for r, p in zip(stream, results)]
    items = off_items
    if score is not None:
        items = [
            Item(r.id, score.score(p.confidence, rules_opinion(text, p.tag)), p.tag == r.item.tag)
            for r, p, text in zip(stream, results, stream_texts)
        ]
    info = {
        "train": len(train),
        "stream": len(stream),
        "threshold": base,
        "threshold_source": source,
        "prior_items": len(prior),
        "prior_precision": sum(a.correct for a in prior) / len(prior) if prior else None,
        "fit_seconds": fit_seconds,
        "validation_seconds": validation_seconds,
        "score": score,
    }
    return Prepared(items, base, prior, start, info, full_prior, off_items)


# What each mode runs: its starting threshold and whether the live policy acts.
MODES = ("off", "start only", "on")


def run_scenario(prepared: Prepared, scenario: Scenario, args, settings: TrustSettings) -> dict:
    """``off``: the old design's threshold, no policy; ``start only``: the new starting threshold, no
    policy; ``on``: the new starting threshold and the live policy with the prior."""
    items = prepared.items
    per_seed: dict[str, list[list[dict]]] = {mode: [] for mode in MODES}
    changes: list[list[tuple[int, str, float, float]]] = []
    for seed in range(args.seeds):
        for mode in MODES:
            base = prepared.cv_threshold if mode == "off" else prepared.start_threshold
            on = mode == "on"
            seen = prepared.off_items if mode == "off" and prepared.off_items else items
            run = stream_once(
                seen, base=base, settings=settings, on=on, seed=seed, lag=args.lag, prior=prepared.prior if on else ()
            )
            per_seed[mode].append(window_figures(items, run, args.windows))
            if on:
                changes.append(run.changes)
    info = {**prepared.info, "start_threshold": prepared.start_threshold}
    # "items": the bare confidences, for the hindsight reference (a fixed threshold on what the model says).
    return {
        "scenario": scenario,
        "info": info,
        "per_seed": per_seed,
        "changes": changes,
        "items": prepared.off_items or items,
    }


def hindsight(items: Sequence[Item], windows: int) -> tuple[float, float] | None:
    """The lowest fixed threshold whose accepted items reach the goal in every window after the first."""
    size = len(items)
    bounds = [round(size * k / windows) for k in range(windows + 1)]
    later = range(bounds[1], size)
    for threshold in sorted({item.confidence for item in items}):
        ok = True
        for start, end in zip(bounds[1:], bounds[2:]):
            accepted = [items[k] for k in range(start, end) if items[k].confidence >= threshold]
            if accepted and sum(i.correct for i in accepted) / len(accepted) < GOAL - 1e-12:
                ok = False
                break
        if ok:
            return threshold, sum(items[k].confidence >= threshold for k in later) / len(later)
    return None


def summarise(result: dict, windows: int) -> dict:
    """Per mode and window: mean and min precision over seeds, mean automation, audits; the goal per seed."""
    out = {}
    for mode, seeds in result["per_seed"].items():
        rows = []
        for w in range(windows):
            precisions = [s[w]["precision"] for s in seeds if s[w]["precision"] is not None]
            rows.append(
                {
                    "precision_mean": statistics.fmean(precisions) if precisions else None,
                    "precision_min": min(precisions) if precisions else None,
                    "automation": statistics.fmean(s[w]["automation"] for s in seeds),
                    "audits": statistics.fmean(s[w]["audits"] for s in seeds),
                    "empty": sum(s[w]["precision"] is None for s in seeds),
                }
            )
        met = [
            all(s[w]["precision"] is None or s[w]["precision"] >= GOAL - 1e-12 for w in range(1, windows))
            for s in seeds
        ]
        overall = []
        for s in seeds:
            accepted = sum(s[w]["accepted"] for w in range(1, windows))
            right = sum((s[w]["precision"] or 0) * s[w]["accepted"] for w in range(1, windows))
            overall.append(
                (right / accepted if accepted else None, accepted / sum(s[w]["items"] for w in range(1, windows)))
            )
        out[mode] = {
            "windows": rows,
            "met": sum(met),
            "seeds": len(seeds),
            "audits_total": statistics.fmean(sum(x["audits"] for x in s) for s in seeds),
            "automation_after_first": statistics.fmean(a for _, a in overall),
            "precision_after_first": statistics.fmean(p for p, _ in overall if p is not None)
            if any(p is not None for p, _ in overall)
            else None,
        }
    return out


def _f(value, fmt="{:.3f}") -> str:
    return "–" if value is None else fmt.format(value)


def format_scenario(result: dict, summary: dict, windows: int, annotators: int) -> str:
    info = result["info"]
    lines = [
        f"### {result['scenario'].name}",
        "",
        f"{info['train']} items train the model; {info['stream']} arrive in order. The random-CV operating point "
        f"(the old design's threshold, 'off'): {info['threshold']:.3f} ({info['threshold_source']}). The time-ordered "
        f"validation: {info['prior_items']} items of the newest training slices, "
        f"{_f(info['prior_precision'])} right; the threshold it proves, the new design's start: "
        f"{info['start_threshold']:.3f}. Its cost at training: {info['validation_seconds']:.1f} s beside "
        f"{info['fit_seconds']:.1f} s for the model's own fit on the same texts (embeddings already computed).",
        "",
        "| window | items | precision off (mean / min) | automation off | precision start only | automation start only "
        "| precision on (mean / min) | automation on | audits on (off) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    off, start, on = (summary[mode]["windows"] for mode in MODES)
    for w in range(windows):
        items = result["per_seed"]["off"][0][w]["items"]
        empty = f" ({on[w]['empty']} seeds accepted nothing)" if on[w]["empty"] else ""
        lines.append(
            f"| {w + 1} | {items} | {_f(off[w]['precision_mean'])} / {_f(off[w]['precision_min'])} "
            f"| {off[w]['automation']:.0%} | {_f(start[w]['precision_mean'])} | {start[w]['automation']:.0%} "
            f"| {_f(on[w]['precision_mean'])} / {_f(on[w]['precision_min'])}{empty} "
            f"| {on[w]['automation']:.0%} | {on[w]['audits']:.1f} ({off[w]['audits']:.1f}) |"
        )
    lines.append("")
    for mode in MODES:
        s = summary[mode]
        lines.append(
            f"- **{mode}**: goal (precision >= {GOAL} in every window after the first, when anything was accepted) "
            f"met in {s['met']}/{s['seeds']} seeds; after the first window precision {_f(s['precision_after_first'])}, "
            f"automation {s['automation_after_first']:.0%}; audits {s['audits_total']:.1f} items "
            f"({s['audits_total'] * annotators:.0f} annotator answers at {annotators} per audit)."
        )
    best = hindsight(result["items"], windows)
    lines.append(
        "- Reference, in hindsight (knowing every gold label): the lowest fixed threshold on the confidence meeting the "
        "goal is " + (f"{best[0]:.3f}, automating {best[1]:.0%} after the first window." if best else "none.")
    )
    first = [c for c in result["changes"][0]]
    if first:
        moves = "; ".join(f"item {i + 1}: {action} {old:.3f} → {new:.3f}" for i, action, old, new in first)
        lines.append(f"- Threshold changes, seed 0: {moves}.")
    raised = sum(any(c[1] == RAISE for c in changes) for changes in result["changes"])
    lines.append(f"- Seeds in which the policy raised the threshold: {raised}/{len(result['changes'])}.")
    return "\n".join(lines)


# Written from the default run of the date below; rerunning with other settings does not update it.
READING = """Reading (default settings; this run 2026-12-05 23:42-23:53 UTC, load average 6.4 before, 6-10 during, 2 shared cores):

- **What changed (issue 14): thresholds judge a trust score, not the bare confidence** (`ml.second_opinion`). The
  keyword rules (`ml.rules`) give a second opinion on each prediction: they *confirm* the model's tag (its keywords
  have the most hits), *contradict* it (another tag's have more) or are *silent* (no keyword). A logistic regression
  of "right" on (logit of the confidence, confirms, contradicts), fitted on the time-ordered validation, is the
  chance of being right on newer content; the validation's items are scored cross-fitted (each slice by the
  regression of the other two), and the start, the prior and the live audits all use that score. What it sees: on
  the four older streams, the stream's confident errors (confidence >= 0.75) were 3, 6, 5 and 4; none had the rules
  confirming the tag (12 of the 18 had no keyword at all), while the rules confirm 71-77% of each stream's items.
- **Chosen on the older streams only** (30/40/50/60%), with an exploration script on this module's `stream_once`
  (table below); then the reported stream was run once, in this run, and nothing was changed after it. At the
  default risk the older streams meet the goal in **75/80 seeds at 46% mean automation** (bare confidence, previous
  run: 46/80 at 36%); the 40% and 50% streams go from 1/20 and 5/20 to 19/20 and 18/20, at 78% and 57% automation.
  It costs 3 seeds on the 30% stream (18/20 at 7%, where the bare confidence sent everything to review): its 138
  validation items prove nothing at the start, and the live policy later lowers the threshold on audits.
- **Reported stream: goal met in 20/20 seeds at 73% automation** after window 1 (bare confidence, previous run:
  20/20 at 39%); in hindsight a fixed threshold on the confidence would have met it at 72%. All five streams at the
  default: 95/100 seeds, 51% mean automation (previous run: 66/100, 36%).
- **Still open.** Without the live policy ("start only") the older streams meet the goal in 80/80 seeds at 48%
  mean automation, i.e. the live part costs 5 seeds and some automation there (on the 50% stream, 57% against 72%);
  its settings were not re-tuned for the score (they were chosen on the bare confidence). The trade-off still
  holds: at risk 0.1 the reported stream keeps 20/20 but the 30% and 50% streams fail (3/20, 5/20). The rules know
  four tags' keywords and nothing else; a tag set without keywords gets a score that only rescales the confidence.
  `make bench-trust-per-class` (its own section) still measures per-class thresholds on the bare confidence.
- **Cost.** An opinion is the rules' four keyword searches: 59 us per item (one at a time, load 6.8, after keeping
  the compiled alternations; 128 us before), paid by every batch and online prediction of a version with a score and
  per audit judged; not measured inside `make bench-repredict` here. Training pays one small regression per slice.

Issue 14: signals that a prediction may be wrong on new content (older and tuning streams only; exploration script
on `stream_once`, 20 seeds, policy on, load 4-7; goal met, automation after window 1). "Gate": an item failing the
condition is never auto-accepted (its score is 0, in the validation too). "Score": the logistic regression above,
with the listed features beside the logit of the confidence, fitted in-sample on the validation unless
"cross-fitted". The rules' tag here is `KeywordClassifier`'s (ties to the more frequent training tag; the shipped
opinion counts a tie with the model's tag as confirming). Novelty: `ml.semantic`'s distance of an item to its 10
nearest training texts (for a validation item, the training texts before its slice); the cut is that quantile of
the validation's distances.

| variant | 30% | 40% | 50% | 60% (tuning) | goal met |
|---|---|---|---|---|---|
| bare confidence (as shipped before; reproduces the previous run) | 20/20, 0% | 1/20, 41% | 5/20, 55% | 20/20, 48% | 46/80 |
| gate: tfidf-linear (trained on the same items) agrees | 20/20, 0% | 1/20, 53% | 4/20, 57% | 20/20, 48% | 45/80 |
| gate: the rules' tag agrees | 20/20, 0% | 14/20, 50% | 20/20, 0% | 20/20, 45% | 74/80 |
| gate: the rules and tfidf-linear agree | 20/20, 0% | 20/20, 2% | 20/20, 0% | 20/20, 45% | 80/80 (review all) |
| gate: the rules confirm (keywords, same tag) | 20/20, 0% | 20/20, 2% | 20/20, 0% | 20/20, 66% | 80/80 (review all) |
| gate: the model's tag has a keyword | 20/20, 0% | 20/20, 2% | 20/20, 0% | 16/20, 63% | 76/80 |
| gate: the rules do not contradict | 20/20, 0% | 1/20, 54% | 20/20, 54% | 20/20, 47% | 61/80 |
| gate: novelty below the validation's 75% / 80% quantile | 20/20, 0% | 20/20, 2% | 20/20, 0% | 16/20 / 3/20, 70% | 76 / 63/80 |
| gate: novelty below the 90% / 95% quantile | 20/20, 0% | 20/20, 70% / 1/20, 53% | 6/20, 53% / 51% | 20/20, 47-48% | 66 / 47/80 |
| gate: novelty below the 90% quantile and the rules do not contradict | 20/20, 0% | 20/20, 2% | 20/20, 51% | 20/20, 46% | 80/80 (review all on 40%) |
| score: novelty / tfidf-linear agrees / both | 20/20, 0% | 1/20, 41-55% | 5/20, 52-55% | 20/20, 48-49% | 46/80 |
| score: rules / rules and novelty | 17/20, 8% | 15/20, 62% | 19/20, 63% | 20/20, 42-43% | 71/80 |
| score: rules, novelty and tfidf-linear | 20/20, 3% | 14/20, 63% | 18/20, 54% | 20/20, 78% | 72/80 |
| score: rules, regularisation C=0.1 / C=10 (default 1, scikit-learn's) | 20/20, 2% / 15/20, 7% | 1/20, 55% / 19/20, 80% | 3/20, 65% / 18/20, 57% | 20/20, 75% / 71% | 44 / 72/80 |
| score, cross-fitted: tfidf-linear agrees | 20/20, 0% | 1/20, 54% | 5/20, 51% | 20/20, 48% | 46/80 |
| score, cross-fitted: rules, novelty and tfidf-linear | 20/20, 0% | 14/20, 61% | 20/20, 3% | 20/20, 80% | 74/80 |
| score, cross-fitted: rules and novelty | 17/20, 6% | 19/20, 80% | 19/20, 63% | 20/20, 42% | 75/80 |
| score, cross-fitted: rules (the exploration's form) | 17/20, 6% | 19/20, 80% | 18/20, 62% | 20/20, 41% | 74/80 |
| **score, cross-fitted: rules (adopted; this run, the shipped opinion)** | 18/20, 7% | 19/20, 78% | 18/20, 57% | 20/20, 42% | 75/80 |

Why this one: the gates that reach 76-80/80 do it by sending (almost) everything to review on the 40% and 50%
streams, the test the previous rows already applied; novelty adds nothing to the rules in the score (75 against
74/80, the same automation) and would need the sentence vectors and a neighbour search at serving; tfidf-linear
agreeing says nothing the confidence does not (46/80) and adding it to the score trades the 50% stream for the tuning
one. Cross-fitting was taken because it is the honest form (a threshold proven on items the regression saw is
flattered), not for its figures. The regression's regularisation is scikit-learn's default; 0.1 loses the rules
(44/80), 10 is close to 1 (72/80).

Before the trust score (the previous run, bare confidence; its reading, kept as history):


- **How the defaults were fixed.** The policy's target became the goal itself (the chance that a 30-item window's
  accepted items miss 0.95, given the evidence, at most 0.05; an audited error in the current window counts against
  the rest of it), and the time-ordered validation went from 2 to 3 slices. Both were chosen on the older streams
  (30/40/50%) and the tuning stream only, with an exploration script that runs this module's `stream_once` on the
  same trained streams (history below); the reported stream was then run once, in this run, and nothing was changed
  after it. The allowed risk 0.05 is the complement of the confidence the design already used (0.95), not a figure
  picked from the table. Two slices met the goal in more seeds on the older streams (65/80 against 46/80) but only by
  sending everything to review on three of the four (0-3% automated: on the tuning stream one confident error, 0.966,
  among 184 validation items proved nothing); three slices were taken for 50% more evidence at the same risk, at the
  price of one more fit at training (8-11 s beside a 5 s fit here, at load about 10).
- **Reported stream: goal met in 20/20 seeds**, precision 1.000 after window 1, automation 39% (the previous design:
  0/20 at 87%; the CV threshold: 0/20 at 95%). The start (0.968; the CV point 0.538) does it
  alone; the live policy never raised the threshold there and cost 28 audited items per seed (57 answers)
  instead of 7. In hindsight a fixed 0.888 would have met the goal at 71%: the evidence cannot tell that in advance.
- **It does not hold everywhere.** At the default, 66 of 100 seeds across the five streams meet the goal, at 36% mean
  automation. The 30% stream (138 validation items) proves nothing: everything to review, goal met trivially. The
  40% and 50% streams fail in most seeds (1/20, 5/20) at 41-55% automation: their errors come in clusters the
  validation did not show (three errors at confidence 0.76-0.80 within 25 items; two at 0.97 and 0.90 within 20
  items). The window rule (an audited error raises the threshold for the rest of its window) catches such a pair
  only when the first error happens to be audited, hence 5/20 rather than 0/20 on the 50% stream.
- **The trade-off** (table and plot above): a stricter risk buys seeds with automation; 0.02 sends everything to
  review, 0.1 and 0.2 automate 60-77% and meet the goal in 41 and 19 of 100 seeds. Per-item precision near 0.99 is
  what one error per 30-item window asks, and a few hundred validation items prove it only from high confidences.
- **Time-ordered calibration changes nothing here.** After the reported run, on the older and tuning streams only
  (exploration script, not adopted): a temperature fitted by likelihood on the time folds' probabilities comes out
  at 0.98-1.06, i.e. the model is already calibrated on newer content, and the outcomes are the adopted row's
  (20/20 0%, 1/20 41%, 5/20 55%, 20/20 48%). **Per-class thresholds were not tried**, for lack of time; what was
  seen: the validation holds 5-9 items predicted mlops per stream, and the confident errors on the older streams
  are spread over the predicted classes (NLP most often), so per-class evidence would be thin.

What was tried before the reported run (older and tuning streams only; 20 seeds; policy on; goal met, automation
after window 1). "Rounded": the first form, with a window's accepted count fixed at its rounded expectation, before
the binomial count (the final form, which stops a threshold accepting a third of an item from counting as safe):

| policy | 30% | 40% | 50% | 60% (tuning) | goal met |
|---|---|---|---|---|---|
| previous design: Wilson bound >= 0.95, 2 slices (from the previous run) | 15/20, 8% | 0/20, 82% | 0/20, 76% | 20/20, 75% | 35/80 |
| risk 0.05, 2 slices, rounded | 20/20, 2% | 20/20, 5% | 5/20, 55% | 18/20, 67% | 63/80 |
| the same without the window rule | 20/20, 2% | 20/20, 5% | 0/20, 75% | 18/20, 67% | 58/80 |
| the same, raised audit share 0.5 | 20/20, 2% | 20/20, 5% | 0/20, 53% | 17/20, 65% | 57/80 |
| risk 0.1, 2 slices, rounded | 0/20, 80% | 1/20, 55% | 0/20, 70% | 20/20, 72% | 21/80 |
| risk 0.05, 3 slices, rounded, lowered on 1 / 10 new audits (not 30) | 20/20, 4% | 0/20, 74% / 62% | 0/20, 72% / 2/20, 62% | 20/20, 71% / 70% | 40 / 42/80 |
| risk 0.05, 4 slices of 15%, rounded | 20/20, 6% | 1/20, 46% | 6/20, 55% | 20/20, 70% | 47/80 |
| risk 0.05, 2 slices | 20/20, 0% | 20/20, 3% | 5/20, 55% | 20/20, 0% | 65/80 |
| risk 0.1 / 0.15, 2 slices | 20/20, 4% / 3/20, 79% | 1/20, 56% | 0/20, 70% | 20/20, 72% | 41 / 24/80 |
| **risk 0.05, 3 slices (adopted)** | 20/20, 0% | 1/20, 41% | 5/20, 55% | 20/20, 47% | 46/80 |
| risk 0.05, 3 slices, prior weight 0.5 | 20/20, 0% | 20/20, 3% | 5/20, 55% | 20/20, 0% | 65/80 |
| risk 0.05, 3 slices, judged from 1 item of evidence (not 20) | 20/20, 0% | 1/20, 40% | 5/20, 55% | 20/20, 47% | 46/80 |
| risk 0.1 / 0.15, 3 slices | 20/20, 32% / 0/20, 83% | 1/20, 57% / 61% | 0/20, 68% / 70% | 20/20 / 19/20, 72-75% | 41 / 20/80 |"""


# The trade-off: the allowed window risk, from strict to loose (the default among them).
RISKS = (0.02, 0.05, 0.1, 0.2)
PLOT = "trust-tradeoff.svg"  # next to docs/benchmarks.md


def older_streams(prepared: dict[Scenario, Prepared], args, settings: TrustSettings, tuning: dict) -> str:
    """Each mode on every stream older than the reported one (the tuning stream's run is reused)."""
    lines = [
        "### Older streams (all before the reported one; the same defaults)",
        "",
        "| stream | hindsight threshold (automation) | start | off: goal met, precision, automation "
        "| start only | on | audits on (off) |",
        "|---|---|---|---|---|---|---|",
    ]
    for scenario in [*OLDER, TUNING]:
        if scenario == TUNING:
            result = tuning
        else:
            result = run_scenario(prepared[scenario], scenario, args, settings)
        summary = summarise(result, args.windows)
        best = hindsight(result["items"], args.windows)
        cells = [
            f"{summary[mode]['met']}/{summary[mode]['seeds']}, {_f(summary[mode]['precision_after_first'])}, "
            f"{summary[mode]['automation_after_first']:.0%}"
            for mode in MODES
        ]
        lines.append(
            f"| {scenario.name} | "
            + (f"{best[0]:.3f} ({best[1]:.0%})" if best else "none")
            + f" | {result['info']['start_threshold']:.3f} | {' | '.join(cells)} "
            f"| {summary['on']['audits_total']:.1f} ({summary['off']['audits_total']:.1f}) |"
        )
    return "\n".join(lines)


def tradeoff(
    prepared: dict[Scenario, Prepared], args, settings: TrustSettings, streams: Sequence[Scenario]
) -> tuple[str, list[tuple[str, list[float]]]]:
    """The policy on every stream at each allowed window risk: goal met against automation ("on" mode).

    Returns the table and, per risk, (share of seeds meeting the goal, mean automation) for the plot.
    """
    lines = [
        "### Trade-off: allowed window risk against the goal and automation (policy on; start and live)",
        "",
        "Each cell: seeds meeting the goal, automation after window 1, audited items per seed. Every setting but the "
        "risk is the default; the start is what the validation proves at that risk.",
        "",
        "| risk | " + " | ".join(scenario.name for scenario in streams) + " | all streams: goal met, mean automation |",
        "|---|" + "---|" * (len(streams) + 1),
    ]
    points = []
    for risk in RISKS:
        variant = replace(settings, risk=risk)
        cells, met, seeds, automation = [], 0, 0, []
        for scenario in streams:
            summary = summarise(
                run_scenario(restart(prepared[scenario], variant), scenario, args, variant), args.windows
            )
            on = summary["on"]
            met, seeds = met + on["met"], seeds + on["seeds"]
            automation.append(on["automation_after_first"])
            cells.append(f"{on['met']}/{on['seeds']}, {on['automation_after_first']:.0%}, {on['audits_total']:.0f}")
        mark = " (default)" if risk == settings.risk else ""
        points.append((f"risk {risk}{mark}", [met / seeds, statistics.fmean(automation)]))
        lines.append(f"| {risk}{mark} | {' | '.join(cells)} | {met}/{seeds}, {statistics.fmean(automation):.0%} |")
    lines += ["", f"![Goal met and automation by allowed risk, all streams]({PLOT})"]
    return "\n".join(lines), points


def tradeoff_svg(points: list[tuple[str, list[float]]]) -> str:
    """The trade-off as a standalone SVG: the app's own bar chart, which needs no plotting library."""
    from common.templatetags.charts import bar_chart

    chart = bar_chart(points, ["goal met (share of seeds, all streams)", "automation after window 1 (mean)"])
    return str(chart).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" font-size="12" ', 1)


def restart(prepared: Prepared, settings: TrustSettings) -> Prepared:
    """The same trained stream with the start the validation proves under other settings."""
    proven = prior_threshold(prepared.full_prior, settings)
    prior = [] if proven is None else prepared.full_prior
    start = prepared.cv_threshold if proven is None else max(prepared.cv_threshold, proven)
    return replace(prepared, prior=prior, start_threshold=start)


def report_body(results, summaries, args, settings: TrustSettings, seconds: float, load: str) -> str:
    head = [
        f"Command: `make bench-trust` (`{args.command}`). "
        f"Run {datetime.date.today().isoformat()}, {platform.python_version()}, {seconds:.0f} s, "
        f"load average before {load}.",
        "",
        f"Algorithm {args.algorithm}; {args.seeds} seeds (each draws its own audit sample); {args.windows} windows; "
        f"audits answered {args.lag} items after they arrive. Start (ml.time_validation, ml.trust.prior_threshold): "
        f"the newest {args.time_folds} slices of {args.time_share:.0%} of the training items, each predicted by a "
        f"model of the items before it; the lowest "
        + (
            "trust score (ml.second_opinion: the chance of being right given the confidence and whether the keyword "
            "rules confirm, contradict or say nothing of the tag, a logistic regression fitted on those items, each "
            "slice scored by the regression of the others; 'start only' and 'on' judge this score, 'off' the bare "
            "confidence)"
            if args.second_opinion
            else "confidence"
        )
        + " at which the chance that a window of "
        f"{settings.window_items} items misses {settings.target} (ml.trust.window_risk: beta-binomial errors on a "
        f"Jeffreys posterior, binomial accepted count) is at most {settings.risk}, never below the CV point. Live policy "
        f"(ml.trust.decide): the last {WINDOW_AUDITS} audits pooled with those validation items (each counting "
        f"{settings.prior_weight} audit), judged the same way once that evidence reaches {settings.min_audits}, with the "
        f"errors audits found among the last {settings.window_items} items' accepted ones counted against the window; "
        f"raised to the lowest threshold the evidence proves (or review all), lowered on >= "
        f"{settings.release_audits} new audits that prove a lower one; audit share {settings.base_audit_share}, {settings.raised_audit_share} while raised"
        + (
            f" and at first, falling to the base share over {settings.settle_audits} accepted audits"
            if settings.warmup
            else ""
        )
        + ". Precision per window is over every auto-accepted item of the window, measured on the gold labels.",
    ]
    parts = ["\n".join(head)]
    for result, summary in zip(results, summaries):
        parts.append(format_scenario(result, summary, args.windows, args.annotators))
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    settings = TrustSettings(
        target=args.target,
        confidence=args.confidence,
        min_audits=args.min_audits,
        release_audits=args.release_audits,
        base_audit_share=args.audit_share,
        raised_audit_share=args.raised_audit_share,
        warmup=not args.no_warmup,
        settle_audits=args.settle_audits,
        prior_weight=args.prior_weight,
        window_items=args.window_items,
        risk=args.risk,
    )
    load = load_average()
    started = time.perf_counter()
    rows = read_dataset_rows(args.dataset)
    main_streams = SCENARIOS[args.scenario]
    streams = [*main_streams] if args.scenario == "reported" else [*OLDER, *main_streams]
    prepared = {scenario: prepare(rows, scenario, args, settings) for scenario in streams}
    results, summaries = [], []
    for scenario in main_streams:
        result = run_scenario(prepared[scenario], scenario, args, settings)
        results.append(result)
        summaries.append(summarise(result, args.windows))
    extra = []
    if args.scenario != "reported":
        extra.append(older_streams(prepared, args, settings, results[0]))
    table, points = tradeoff(prepared, args, settings, streams)
    extra.append(table)
    if args.scenario == "both":
        extra.append(READING)
    parts = [report_body(results, summaries, args, settings, time.perf_counter() - started, load), *extra]
    body = "\n\n".join(parts)
    print(body)
    if args.scenario != "both":
        return  # only the full run (defaults fixed on the tuning stream, then the reported one) is written
    if args.docs is not None:
        replace_section(args.docs, SECTION, body)
        (args.docs.parent / PLOT).write_text(tradeoff_svg(points) + "\n")
        print(f"\nwrote the '## {SECTION}' section of {args.docs}", file=sys.stderr)


def _parse_args(argv):
    defaults = TrustSettings()
    parser = argument_parser(MODULE, __doc__.splitlines()[0])
    add_docs_arguments(parser, SECTION)
    parser.add_argument("--algorithm", default=DEFAULT_ALGORITHM)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--lag", type=int, default=5, help="items between an audit's arrival and its answer")
    parser.add_argument("--annotators", type=int, default=2, help="answers per audit (TAGLOOP_AUDIT_ANNOTATORS)")
    parser.add_argument("--target", type=float, default=defaults.target)
    parser.add_argument("--confidence", type=float, default=defaults.confidence)
    parser.add_argument("--min-audits", type=int, default=defaults.min_audits)
    parser.add_argument("--release-audits", type=int, default=defaults.release_audits)
    parser.add_argument("--audit-share", type=float, default=defaults.base_audit_share)
    parser.add_argument("--raised-audit-share", type=float, default=defaults.raised_audit_share)
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--settle-audits", type=int, default=defaults.settle_audits)
    parser.add_argument("--prior-weight", type=float, default=defaults.prior_weight)
    parser.add_argument("--window-items", type=int, default=defaults.window_items, help="items per promised window")
    parser.add_argument("--risk", type=float, default=defaults.risk, help="allowed chance that a window misses")
    parser.add_argument(
        "--time-folds", type=int, default=TIME_FOLDS, help="newest slices of the time-ordered validation"
    )
    parser.add_argument("--time-share", type=float, default=TIME_SHARE, help="share of the training items per slice")
    parser.add_argument(
        "--no-second-opinion",
        dest="second_opinion",
        action="store_false",
        help="judge the bare confidence, not the trust score with the keyword rules' opinion (ml.second_opinion)",
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="both",
        help="'tuning' alone is for choosing defaults without seeing the reported stream",
    )
    args = parser.parse_args(argv)
    args.command = command_line(MODULE, argv)
    return args


if __name__ == "__main__":
    main()
