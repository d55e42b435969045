"""Per-class thresholds and early release against the shipped trust policy.  (``make bench-trust-per-class``)

The streams of ``make bench-trust`` (the dataset in time order; train on the oldest
30/40/50/60%, stream the next 20% item by item, audits answered from gold labels), each
policy run over 20 audit draws: the shipped single threshold (:func:`ml.trust.decide`
through ``bench_trust.stream_once``), the same single threshold in this simulator (a
check that it reproduces the shipped one), the single threshold released as soon as the
audited error that raised it leaves the window, and per-predicted-class thresholds
(:mod:`benchmarks.trust_per_class`) at several shrinkages.  Decisions are taken on these
older streams only; ``--reported`` adds the reported stream (oldest 80% -> newest 20%),
run once after the decision.  Figures: seeds meeting the goal (>= 0.95 in every window
after the first), automation after the first window, audited items per seed.
"""

import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from benchmarks import bench_trust
from benchmarks.common import add_docs_arguments, argument_parser, command_line, utc_minute
from benchmarks.loop_simulation import LoopConfig, review_threshold
from benchmarks.machine import load_average
from benchmarks.markdown_section import replace_section
from benchmarks.trust_per_class import Candidate, Evidence, start_vector, stream
from ml.algorithms import DEFAULT_ALGORITHM
from ml.dataset import read_dataset_rows
from ml.prediction import predict
from ml.text import prepare_text
from ml.time_validation import time_ordered_predictions
from ml.training import train_model
from ml.trust import REVIEW_ALL, Audit, TrustSettings, can_prove, prior_threshold

MODULE = "benchmarks.bench_trust_per_class"
SECTION = "Trust: per-class thresholds and early release (measured, not shipped)"
SHIPPED = "shipped: one threshold (ml.trust)"
CANDIDATES = {
    "one threshold, this simulator (check)": Candidate(math.inf),
    "one threshold, released when its error leaves the window": Candidate(math.inf, release_on_window=True),
    "per class, greedy budget, shrinkage 0": Candidate(0.0),
    "per class, greedy budget, shrinkage 5": Candidate(5.0),
    "per class, greedy budget, shrinkage 20": Candidate(20.0),
    "per class, one error level, shrinkage 0": Candidate(0.0, method="level"),
    "per class, one error level, shrinkage 20": Candidate(20.0, method="level"),
}


@dataclass(frozen=True)
class TaggedStream:
    """A trained stream: its items and the time-ordered validation, each with the predicted tag."""

    name: str
    items: list[tuple[str, Evidence]]
    prior: list[Evidence]
    cv_threshold: float
    tags: list[str]


def prepare(rows, scenario: bench_trust.Scenario, algorithm: str) -> TaggedStream:
    """As ``bench_trust.prepare``, keeping each prediction's tag (the shipped evidence does not carry it)."""
    train, arriving = bench_trust.split_in_time(rows, scenario)
    texts = [prepare_text(r.item.title, r.item.description) for r in train]
    tags = [r.item.tag for r in train]
    model = train_model(texts=texts, labels=tags, algorithm=algorithm, random_state=0)
    cv_threshold, _ = review_threshold(texts, tags, LoopConfig(cv_folds=5, algorithm=algorithm, seed=0))
    results = predict(model, [prepare_text(r.item.title, r.item.description) for r in arriving])
    items = [(r.id, Evidence(p.confidence, p.tag, p.tag == r.item.tag)) for r, p in zip(arriving, results)]
    return TaggedStream(scenario.name, items, _validation(texts, tags, algorithm), cv_threshold, sorted(set(tags)))


def _validation(texts: list[str], tags: list[str], algorithm: str) -> list[Evidence]:
    """The shipped time-ordered validation (ml.time_validation), each item with its predicted tag."""
    validation = time_ordered_predictions(
        texts, tags, algorithm=algorithm, folds=bench_trust.TIME_FOLDS, share=bench_trust.TIME_SHARE
    )
    return [Evidence(item.confidence, item.tag, item.correct) for item in validation]


def run_shipped(data: TaggedStream, settings: TrustSettings, seeds: int, lag: int) -> list[tuple[bool, float, int]]:
    items = [bench_trust.Item(key, e.confidence, e.correct) for key, e in data.items]
    prior = [Audit(e.confidence, e.correct) for e in data.prior]
    proven = prior_threshold(prior, settings)
    prior = [] if proven is None else prior
    start = data.cv_threshold if proven is None else max(data.cv_threshold, proven)
    outcomes = []
    for seed in range(seeds):
        run = bench_trust.stream_once(items, base=start, settings=settings, on=True, seed=seed, lag=lag, prior=prior)
        outcomes.append(_score([e for _, e in data.items], run.accepted, run.audited))
    return outcomes


def run_candidate(
    data: TaggedStream, policy: Candidate, settings: TrustSettings, seeds: int, lag: int
) -> list[tuple[bool, float, int]]:
    if can_prove(len(data.prior), settings):
        prior = data.prior
        start = start_vector(prior, tags=data.tags, cv_threshold=data.cv_threshold, settings=settings, policy=policy)
    else:  # as the shipped policy: too little validation is neither a start nor a prior
        prior, start = [], {tag: data.cv_threshold for tag in data.tags}
    outcomes = []
    for seed in range(seeds):
        run = stream(data.items, start=start, prior=prior, settings=settings, policy=policy, seed=seed, lag=lag,
                     is_audit=bench_trust.is_audit)  # fmt: skip
        outcomes.append(_score([e for _, e in data.items], run.accepted, run.audited))
    return outcomes


def _score(items: Sequence[Evidence], accepted: list[bool], audited: list[bool], windows: int = 5):
    """(goal met in every window after the first, automation after the first, audited items)."""
    bounds = [round(len(items) * k / windows) for k in range(windows + 1)]
    met, taken = True, 0
    for start, end in zip(bounds[1:], bounds[2:]):
        chosen = [k for k in range(start, end) if accepted[k]]
        taken += len(chosen)
        if chosen and sum(items[k].correct for k in chosen) / len(chosen) < bench_trust.GOAL - 1e-12:
            met = False
    return met, taken / (len(items) - bounds[1]), sum(audited)


def table(streams: Sequence[TaggedStream], settings: TrustSettings, seeds: int, lag: int) -> str:
    lines = [
        f"Allowed window risk {settings.risk}. Each cell: seeds meeting the goal, automation after window 1, "
        "audited items per seed.",
        "",
        "| policy | " + " | ".join(s.name for s in streams) + " | all: goal met, mean automation |",
        "|---|" + "---|" * (len(streams) + 1),
    ]
    policies = {SHIPPED: None, **CANDIDATES}
    for name, policy in policies.items():
        cells: list[str] = []
        met, automation = 0, list[float]()
        for data in streams:
            if policy is None:
                outcomes = run_shipped(data, settings, seeds, lag)
            else:
                outcomes = run_candidate(data, policy, settings, seeds, lag)
            seeds_met = sum(o[0] for o in outcomes)
            mean_automation = statistics.fmean(o[1] for o in outcomes)
            met, automation = met + seeds_met, [*automation, mean_automation]
            cells.append(f"{seeds_met}/{seeds}, {mean_automation:.0%}, {statistics.fmean(o[2] for o in outcomes):.0f}")
        total = f"{met}/{seeds * len(streams)}, {statistics.fmean(automation):.0%}"
        lines.append(f"| {name} | {' | '.join(cells)} | {total} |")
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def starts(streams: Sequence[TaggedStream], settings: TrustSettings) -> str:
    """Each stream's validation by predicted class and the starting vectors it proves."""
    lines = ["| stream | validation items by predicted tag (errors) | start, one threshold | start, per class (greedy, shrinkage 5) |",
             "|---|---|---|---|"]  # fmt: skip
    for data in streams:
        counts = ", ".join(
            f"{tag} {sum(e.tag == tag for e in data.prior)} ({sum(e.tag == tag and not e.correct for e in data.prior)})"
            for tag in data.tags
        )
        single = prior_threshold([Audit(e.confidence, e.correct) for e in data.prior], settings)
        vector = start_vector(data.prior, tags=data.tags, cv_threshold=data.cv_threshold, settings=settings,
                              policy=CANDIDATES["per class, greedy budget, shrinkage 5"])  # fmt: skip
        shown = "; ".join(f"{tag} {'review all' if t >= REVIEW_ALL else f'{t:.3f}'}" for tag, t in vector.items())
        lines.append(f"| {data.name} | {counts} | {'–' if single is None else f'{single:.3f}'} | {shown} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    load_before, started = load_average(), time.perf_counter()
    rows = read_dataset_rows(args.dataset)
    scenarios = [*bench_trust.OLDER, bench_trust.TUNING] + ([bench_trust.REPORTED] if args.reported else [])
    streams = [prepare(rows, scenario, args.algorithm) for scenario in scenarios]
    settings = TrustSettings()
    parts = [
        f"Command: `{args.command}`. Run {utc_minute()}, load average before {load_before}.",
        "",
        starts(streams, settings),
    ]
    for risk in args.risks:
        parts += ["", table(streams, replace(settings, risk=risk), args.seeds, args.lag)]
    parts += ["", f"{time.perf_counter() - started:.0f} s; load average after {load_average()}."]
    body = "\n".join(parts)
    print(body)
    if args.docs is not None:
        replace_section(args.docs, SECTION, body + "\n\n" + READING)
        print(f"\nwrote the '## {SECTION}' section of {args.docs}", file=sys.stderr)


# Written after the decision run and the one reported run (2026-12-05); kept with the section when it is rewritten.
READING = """Reading (2026-12-05, trust2; load average 5.3-6.4 before the runs, 2 shared cores; load moves no figure here, the streams and audit draws are deterministic):

- **How it was decided.** The candidates were explored, then this module written and run, on the older streams
  (30/40/50%) and the tuning stream (60%) only; the decision (ship neither) was committed before the reported stream
  was run, once, by `--reported` (this run; the older streams' rows are identical to the decision run's). The
  reported stream had been seen before (the "Trust" section above), so its row is no independent test of the single
  threshold; it is one for the candidates, which were never run on it before the decision. The shipped policy's row
  is run through `bench_trust.stream_once` itself; this simulator with one threshold (the "check" row) gives the same
  figures in every cell at both risks, so the candidates differ from it only by what they change. (The shipped row's
  41% on the reported stream is 39% in "Trust": a different run; the int8 graph has been rebuilt since, which moves
  confidences slightly.)
- **Per-class thresholds do not win on the older streams.** At the default risk (0.05): 46-50 of 80 seeds meet the
  goal at 35-39% mean automation, against 46/80 at 36% for the shipped single threshold. The only automation gain is
  on the tuning stream (48% -> 53-61%, goal met either way); on the 40% and 50% streams per class automates less
  (34-39% and 44-53% against 41% and 55%), and the four extra seeds of "one error level, shrinkage 0" on the 50%
  stream are bought with 11 points of its automation, a move along the risk trade-off, not a better one. At risk 0.1
  per class is far worse on the goal (13-31 of 80 against 41/80). **Not shipped** (no change to `ml/trust.py`, the
  serving path, `/monitoring/` or the model page).
- **Why: the per-class error pattern of the validation does not carry to the next period.** The validation holds
  6-29 items predicted mlops and 14-47 predicted other per stream; what differs between classes there is mostly one
  or two confident errors (a computer-vision item at 0.96-0.97 in every older stream), and where a class looks clean
  in validation the next period errs confidently in it: on the 40% stream per class starts NLP at 0.626 (validation:
  5 errors, none above 0.59), and the stream's NLP errors come at 0.96, 0.80, 0.78. On the reported stream, run after
  the decision, per class starts at computer-vision 0.822, mlops 0.580, NLP 0.879, other 0.874 (one threshold: 0.967)
  and so accepts three errors at 0.88-0.90 (one each in computer-vision, NLP and mlops) that 0.967 keeps out: 0-1/20
  seeds at 64-79% automation, against 20/20 at 41%. Shrinkage toward the global rate (5 or 20 pseudo-items) does not
  prevent it: two of the three are in the two largest classes (121 and 169 validation items), which shrinkage leaves
  to their own evidence.
- **Releasing a raise as soon as its audited error has left the window does not win either**: 40/80 at 46% (the 40%
  and 50% streams fall to 0/20 at 68%), which the shipped policy at a looser risk beats (0.1: 41/80 at 58%). On
  these two streams the errors come in clusters (see "Trust"), and the raise an audited error causes is what keeps
  the next ones out; releasing it when that error leaves the window lets them in. Not shipped.
- **What would be needed** for per-class thresholds to pay: evidence about the newest content per class (live audits
  per class, far more than the validation's few dozen); until then the single threshold stays."""


def _parse_args(argv):
    parser = argument_parser(MODULE, __doc__.splitlines()[0])
    add_docs_arguments(parser, SECTION)
    parser.add_argument("--algorithm", default=DEFAULT_ALGORITHM)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--lag", type=int, default=5, help="items between an audit's arrival and its answer")
    parser.add_argument("--risks", type=lambda text: [float(x) for x in text.split(",")], default=[0.05, 0.1])
    parser.add_argument("--reported", action="store_true", help="add the reported stream (run once, after deciding)")
    args = parser.parse_args(argv)
    args.command = command_line(MODULE, argv)
    return args


if __name__ == "__main__":
    main()
