"""Simulate the human-in-the-loop on the real dataset: uncertainty against random order.

Run ``python -m benchmarks.bench_loop`` (or ``make bench-loop``).  The dataset is
sorted by ``created_on``: the oldest ``--seed-share`` trains the first
model, the newest ``--holdout-share`` is never streamed (the unseen rest
after the last round), and the part between arrives in ``--rounds`` rounds.
Each round runs :mod:`benchmarks.loop_simulation`: predict, open reports and review
tasks, answer within the budget, retrain; unanswered items carry over and
are re-scored by the next model.

For every seed and every per-round budget of ``--budgets``, the stream is
labelled in uncertainty order (the system's queue, then the least confident
auto-accepted items) and in random order (random sampling of the unlabelled
stream); reports come first in both.  References: "no labels" (the seed
model), "whole queue" (exactly the review queue each round, no budget) and
"everything" (every streamed item labelled, the right end of both curves).

The headline rule, fixed before any result was looked at:

- the curve of an order is its final weighted F1 on the holdout against
  labels spent, averaged over seeds budget by budget, from "no labels" to
  "everything";
- target = mean F1 of "everything" - ``--tolerance`` (0.01);
- labels needed = where the curve, linearly interpolated between budgets,
  last rises to the target: from there on it stays at or above it at every
  budget of the grid;
- met when uncertainty's labels needed are at most half of random's.

The report adds, without changing the rule, the per-seed figures, a
bootstrap over seeds of the ratio and the ratio at other tolerances.
Results go to stdout and, unless ``--no-write``, to the "## Loop" section of
docs/benchmarks.md.
"""

import argparse
import datetime
import itertools
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.common import add_docs_arguments, argument_parser, command_line
from benchmarks.loop_simulation import Fitted, LoopConfig, RoundResult, Stream, fit_with_threshold, simulate
from benchmarks.machine import load_average
from benchmarks.markdown_section import replace_section
from ml.algorithms import ALGORITHMS, DEFAULT_ALGORITHM
from ml.dataset import read_dataset_rows
from ml.text import prepare_text

MODULE = "benchmarks.bench_loop"  # as run: under python -m, __name__ is "__main__"
SECTION = "Loop"
ORDERS = ("uncertainty", "random")
WHOLE_QUEUE = "whole queue"
WHOLE_ROUND = "everything"
NO_LABELS = "no labels"
HALF = 0.5  # the target: uncertainty needs at most half of random's labels
BOOTSTRAP_RESAMPLES = 2000
SENSITIVITY_TOLERANCES = (0.005, 0.02)

Key = tuple[str, int | None, int]  # (order, budget per round, seed)

# Written from the default run of the date below; rerunning with other
# settings does not update it.
READING = [
    "Reading (default settings, 2026-11-29):",
    (
        "- Not met under the rule: 325 against 493 labels (0.66). Uncertainty order passes the "
        "target between 144 and 192 labels (0.838 -> 0.872), then stays flat at 0.870-0.872 up to "
        "480 labels, 0.008-0.010 under labelling everything (0.880): the target line runs along "
        "that plateau. Budget 48 (288 labels, 0.8697) is 0.0007 under the target, so the "
        '"stays at or above" rule puts the crossing at 325; without that point it would be about '
        "190 (ratio about 0.38). Hence the wide bootstrap range and the swing with the tolerance."
    ),
    (
        "- Random order climbs steadily and reaches the target only between 480 labels and "
        "everything. Uncertainty is ahead at every budget up to 384 labels (paired by seed: "
        "+0.02 to +0.06, more than 1 sd at each but 96) and level at 480."
    ),
    (
        "- The last 0.01 of F1 comes only with (nearly) every label, in either order; per seed, "
        "uncertainty needs 358-489 labels and random 468-511."
    ),
    (
        "- The out-of-fold threshold is computed on the training set, which under uncertainty "
        "order is mostly hard items, and comes out stricter than the 95% target needs: in rounds "
        "5-6 uncertainty auto-accepts 21-30% of the new items (99% precision) against random's "
        "53-57% (94-97%), and its backlog reaches 212 items at 32 "
        "labels per round. Answering the whole queue every round (310 labels, 58%) reaches "
        "0.873 ± 0.010, at the target on the mean."
    ),
    (
        "- Resolution: one holdout item moves F1 by ~0.0065 and the seed sd of labelling "
        "everything is 0.0056, the size of the gap that decides the headline; a larger dataset "
        "would be needed to settle whether the ratio is under 0.5."
    ),
    (
        "- A second time window (run after this one; nothing was tuned on either): `python -m "
        "benchmarks.bench_loop --exclude-newest 0.2 --budgets 8 16 24 32 48 64` leaves this run's holdout "
        "out and cuts the older 611 items the same way (122-item holdout). There the same rule "
        "gives 133 against 335 labels, a ratio of 0.40 (met; bootstrap 0.38-0.56, at most 0.5 in "
        "90% of resamples). An exploratory comparison on that split only, kept out of the "
        "repository, found margin sampling (0.42) and least confidence with a fifth of each "
        "round's budget spent at random (0.44) no better than the system's least-confidence "
        "order, so the order was left as it is. The headline above stays the verdict."
    ),
    (
        "- The system's most accurate algorithm (session 4, after all of the above; nothing was "
        "tuned on it): `python -m benchmarks.bench_loop --algorithm embeddings-linear --no-write` (653 s) "
        "gives 289 against 498 labels, a ratio of 0.58 (not met; bootstrap 0.35-0.67, at most 0.5 "
        "in 28% of resamples). Every F1 is higher (labelling everything: 0.927; no labels: 0.779) "
        "and the shape is the same: uncertainty passes the target (0.917) between 144 and 192 "
        "labels (0.910 -> 0.919), budget 48 dips 0.0001 under it (0.9166), and random reaches it "
        "only between 480 labels and everything. Answering the whole queue every round reaches "
        "0.920 ± 0.011 with 203 labels (38%)."
    ),
]


@dataclass(frozen=True)
class Point:
    """One budget of the sweep for one order: labels spent and final F1 on the holdout."""

    budget: str
    labels: float
    f1: float


@dataclass(frozen=True)
class Need:
    """Labels an order needs to reach the target, and the budgets they fall between."""

    labels: float | None  # None: the curve ends below the target
    between: tuple[str, str] | None  # the grid segment interpolated in; None at a grid point


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    started = time.perf_counter()
    load_before = load_average()
    stream = time_stream(
        args.dataset, args.seed_share, args.holdout_share, args.rounds, exclude_newest=args.exclude_newest
    )
    results = run_all(stream, args)
    elapsed = time.perf_counter() - started
    report = _report(results, stream, args, elapsed, load_before)
    print(report)
    if args.docs is not None:
        replace_section(args.docs, SECTION, report)
        print(f"\nwrote the '## {SECTION}' section of {args.docs}")


def time_stream(
    dataset: Path, seed_share: float, holdout_share: float, rounds: int, exclude_newest: float = 0.0
) -> Stream:
    """The dataset in ``created_on`` order, cut into seed, ``rounds`` equal rounds and holdout.

    ``exclude_newest`` drops that share of the newest items first: with the
    default holdout share, the run never sees the default run's holdout, so
    it can serve as a development split (choosing a review order, say).
    """
    rows = sorted(read_dataset_rows(dataset), key=lambda row: (row.created_on, row.id))
    rows = rows[: len(rows) - round(len(rows) * exclude_newest)]
    n = len(rows)
    seed_end, holdout_start = round(n * seed_share), n - round(n * holdout_share)
    bounds = [seed_end + round(k * (holdout_start - seed_end) / rounds) for k in range(rounds + 1)]
    return Stream(
        texts=[prepare_text(r.item.title, r.item.description) for r in rows],
        tags=[r.item.tag for r in rows],
        seed=list(range(seed_end)),
        rounds=[list(range(a, b)) for a, b in itertools.pairwise(bounds)],
        holdout=list(range(holdout_start, n)),
    )


def run_all(stream: Stream, args: argparse.Namespace) -> dict[Key, list[RoundResult]]:
    """Every (order, budget, seed) run, in a process pool; deterministic whatever the pool does."""
    base = LoopConfig(report_rate=args.report_rate, cv_folds=args.cv_folds, algorithm=args.algorithm)
    keys = run_keys(args.budgets, args.seeds)
    configs = [replace(base, order=order, budget=budget, seed=seed) for order, budget, seed in keys]
    runs = []
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=_single_threaded) as pool:
        # map() yields in submission order, so the count only moves forward.
        for done, run in enumerate(pool.map(_simulate, [stream] * len(configs), configs), start=1):
            runs.append(run)
            print(f"  {done}/{len(configs)} loop runs done", file=sys.stderr, flush=True)
    return dict(zip(keys, runs))


def run_keys(budgets: Sequence[int], seeds: Sequence[int]) -> list[Key]:
    keys: list[Key] = []
    for seed in seeds:
        # The slowest runs first, so the pool does not end on one long straggler.
        keys += [("everything", None, seed), ("uncertainty", None, seed)]  # everything, whole queue
        keys += [(order, b, seed) for b in sorted(budgets, reverse=True) for order in ORDERS]
        keys.append(("uncertainty", 0, seed))  # no labels
    return keys


def _simulate(stream: Stream, config: LoopConfig) -> list[RoundResult]:
    return simulate(stream, config, fit=_fit)


def _fit(texts: list[str], tags: list[str], config: LoopConfig) -> Fitted:
    # The order, budget and reports do not change a fit: leave them out of the cache key.
    fitting = LoopConfig(
        algorithm=config.algorithm, seed=config.seed, cv_folds=config.cv_folds, target_precision=config.target_precision
    )
    return _cached_fit(tuple(texts), tuple(tags), fitting)


@lru_cache(maxsize=10)
def _cached_fit(texts: tuple[str, ...], tags: tuple[str, ...], config: LoopConfig) -> Fitted:
    # It serves the "no labels" runs (the same training set every round) and the
    # seed model shared by a seed's consecutive runs; kept small because a
    # fitted model weighs megabytes.
    return fit_with_threshold(list(texts), list(tags), config)


def _single_threaded() -> None:
    # Two worker processes share two cores: extra BLAS threads would only contend.
    threadpool_limits(limits=1)


def sweep(
    results: dict[Key, list[RoundResult]], order: str, budgets: Sequence[int], seeds: Sequence[int]
) -> list[list[Point]]:
    """Per seed, the order's (labels, final F1) from no labels to everything.

    Both ends are shared by the two orders: there the order cannot matter.
    """
    per_seed = []
    for seed in seeds:
        runs = [(NO_LABELS, results[("uncertainty", 0, seed)])]
        runs += [(str(b), results[(order, b, seed)]) for b in sorted(budgets)]
        runs.append((WHOLE_ROUND, results[("everything", None, seed)]))
        per_seed.append([Point(name, run[-1].labels_spent, run[-1].rest_f1) for name, run in runs])
    return per_seed


def mean_points(per_seed: Sequence[Sequence[Point]]) -> list[Point]:
    """The seeds' points averaged budget by budget."""
    return [
        Point(group[0].budget, statistics.mean(p.labels for p in group), statistics.mean(p.f1 for p in group))
        for group in zip(*per_seed)
    ]


def labels_needed(points: Sequence[Point], target: float) -> Need:
    """Where the curve last rises to ``target``, interpolated linearly between grid points.

    From the returned labels on, every point of the curve is at or above the
    target, so one lucky budget cannot decide.  None when the last point is
    below the target; 0 labels when every point reaches it.
    """
    if points[-1].f1 < target:
        return Need(labels=None, between=None)
    for below, above in zip(reversed(points[:-1]), reversed(points[1:])):
        if below.f1 < target:
            share = (target - below.f1) / (above.f1 - below.f1)
            labels = below.labels + share * (above.labels - below.labels)
            return Need(labels=labels, between=(below.budget, above.budget))
    return Need(labels=points[0].labels, between=None)


def ratio(uncertainty: Need, random: Need) -> float | None:
    """Uncertainty's labels needed over random's; None when either is not reached."""
    if uncertainty.labels is None or random.labels is None:
        return None
    if random.labels == 0:
        return 1.0 if uncertainty.labels == 0 else float("inf")
    return uncertainty.labels / random.labels


def verdict(uncertainty: Need, random: Need) -> str:
    """Whether uncertainty ordering needs at most half of random's labels."""
    if uncertainty.labels is None:
        return "NOT met (the uncertainty curve ends below the target)"
    value = ratio(uncertainty, random)
    if value is None:  # uncertainty reached the target, so random did not
        return "undetermined (the random curve ends below the target)"
    return f"{'met' if value <= HALF else 'NOT met'} (uncertainty / random = {value:.2f})"


def headline_ratio(
    sweeps: dict[str, list[list[Point]]],
    everything: Sequence[float],
    tolerance: float,
    seeds: Sequence[int] | None = None,
) -> float | None:
    """The headline ratio from the mean curves over ``seeds`` (positions; default all)."""
    picked = range(len(everything)) if seeds is None else seeds
    target = statistics.mean(everything[k] for k in picked) - tolerance
    needs = {order: labels_needed(mean_points([sweeps[order][k] for k in picked]), target) for order in ORDERS}
    return ratio(needs["uncertainty"], needs["random"])


def bootstrap_ratios(
    sweeps: dict[str, list[list[Point]]],
    everything: Sequence[float],
    tolerance: float,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> list[float | None]:
    """The headline ratio over seeds resampled with replacement (None: a curve never reached)."""
    rng = np.random.default_rng(seed)
    n = len(everything)
    return [headline_ratio(sweeps, everything, tolerance, list(rng.integers(0, n, n))) for _ in range(resamples)]


def _report(
    results: dict[Key, list[RoundResult]], stream: Stream, args: argparse.Namespace, elapsed: float, load_before: str
) -> str:
    everything = [results[("everything", None, s)][-1].rest_f1 for s in args.seeds]
    target = statistics.mean(everything) - args.tolerance
    sweeps = {order: sweep(results, order, args.budgets, args.seeds) for order in ORDERS}
    return "\n".join(
        [
            _preamble(stream, args, elapsed, load_before),
            "",
            (
                f"Per round, budget {args.table_budget} labels per round (mean over seeds "
                f"{_seed_list(args.seeds)}; F1 ± sd over seeds). Queued: open reports plus unlabelled "
                "streamed items below the threshold, of which carried over from earlier rounds; "
                "backlog: queued items left unanswered. Auto-accept figures are about the round's "
                "new items:"
            ),
            "",
            rounds_table(results, args.table_budget, args.seeds),
            "",
            (
                f"Budget sweep: final weighted F1 on the holdout ({len(stream.holdout)} newest items), "
                "mean ± sd over seeds; the difference is paired by seed."
            ),
            "",
            sweep_table(sweeps),
            "",
            _whole_queue(results, args.seeds),
            "",
            _headline(sweeps, everything, target, args.tolerance),
            "",
            *_notes(args),
        ]
    )


def rounds_table(results: dict[Key, list[RoundResult]], budget: int, seeds: Sequence[int]) -> str:
    header = (
        "| round | order | labels spent (cumulative) | queued (carried) | backlog "
        "| auto-accepted share | precision of auto-accepted "
        "| weighted F1 on the unseen rest | rest items |"
    )
    lines = [header, "|" + " --- |" * 9]
    runs: dict[str, tuple[str, int | None]] = {order: (order, budget) for order in ORDERS}
    runs |= {WHOLE_QUEUE: ("uncertainty", None), WHOLE_ROUND: ("everything", None), NO_LABELS: ("uncertainty", 0)}
    rounds = len(results[("everything", None, seeds[0])])
    for number in range(rounds):
        for name, (order, order_budget) in runs.items():
            rows = [results[(order, order_budget, s)][number] for s in seeds]
            lines.append(_round_row(number, name, rows))
    return "\n".join(lines)


def _round_row(number: int, order: str, rows: Sequence[RoundResult]) -> str:
    share = _mean_or_dash([r.auto_accept_share for r in rows], "{:.1%}")
    precision = _mean_or_dash([r.auto_precision for r in rows], "{:.1%}")
    queued = f"{statistics.mean(r.queued for r in rows):.0f} ({statistics.mean(r.carried for r in rows):.0f})"
    return (
        f"| {number} | {order} | {statistics.mean(r.labels_spent for r in rows):.0f} "
        f"| {queued} | {statistics.mean(r.backlog for r in rows):.0f} | {share} | {precision} "
        f"| {_mean_sd([r.rest_f1 for r in rows])} | {rows[0].rest_size} |"
    )


def sweep_table(sweeps: dict[str, list[list[Point]]]) -> str:
    lines = ["| budget per round | labels | uncertainty F1 | random F1 | uncertainty - random |", "|" + " --- |" * 5]
    for index, budget in enumerate(p.budget for p in sweeps[ORDERS[0]][0]):
        groups = {order: [seed_points[index] for seed_points in sweeps[order]] for order in ORDERS}
        labels = {order: statistics.mean(p.labels for p in groups[order]) for order in ORDERS}
        spent = (
            " / ".join(f"{labels[o]:.0f}" for o in ORDERS)
            if len(set(labels.values())) > 1
            else f"{labels[ORDERS[0]]:.0f}"
        )
        difference = [u.f1 - r.f1 for u, r in zip(groups["uncertainty"], groups["random"])]
        lines.append(
            f"| {budget} | {spent} | {_mean_sd([p.f1 for p in groups['uncertainty']])} "
            f"| {_mean_sd([p.f1 for p in groups['random']])} | {_mean_sd(difference, sign=True)} |"
        )
    return "\n".join(lines)


def _whole_queue(results: dict[Key, list[RoundResult]], seeds: Sequence[int]) -> str:
    finals = [results[("uncertainty", None, s)][-1] for s in seeds]
    return (
        f"Whole queue (every report and every item below the threshold answered each round, "
        f"no budget): {statistics.mean(r.labels_spent for r in finals):.0f} labels, final F1 "
        f"{_mean_sd([r.rest_f1 for r in finals])}."
    )


def _headline(
    sweeps: dict[str, list[list[Point]]], everything: Sequence[float], target: float, tolerance: float
) -> str:
    needs = {order: labels_needed(mean_points(sweeps[order]), target) for order in ORDERS}
    lines = [
        (
            f"Headline: labels needed to reach the F1 of labelling everything "
            f"({_mean_sd(everything)}; target = mean - {tolerance} = {target:.4f}): where the "
            "mean curve over seeds, interpolated linearly between budgets, last rises to the "
            "target. Per seed (each against the same target) in brackets:"
        ),
        "",
    ]
    for order in ORDERS:
        per_seed = [labels_needed(points, target) for points in sweeps[order]]
        lines.append(
            f"- {order} order: {_need_text(needs[order])} [{', '.join(_need_text(n, short=True) for n in per_seed)}]"
        )
    lines += [
        "",
        (
            f"Target (uncertainty needs at most half of random's labels): "
            f"**{verdict(needs['uncertainty'], needs['random'])}**."
        ),
        "",
    ]
    lines.append(_robustness(sweeps, everything, tolerance))
    return "\n".join(lines)


def _robustness(sweeps: dict[str, list[list[Point]]], everything: Sequence[float], tolerance: float) -> str:
    ratios = bootstrap_ratios(sweeps, everything, tolerance)
    reached = [r for r in ratios if r is not None]
    text = f"Robustness (not part of the rule): over {len(ratios)} bootstrap resamples of the seeds, "
    if reached:
        low, high = np.percentile(reached, [5, 95])
        met = sum(r <= HALF for r in reached) / len(ratios)
        text += (
            f"the ratio's 5th-95th percentiles are {low:.2f}-{high:.2f} and it is at most {HALF} in {met:.0%} of them"
        )
        if len(reached) < len(ratios):
            text += f" ({len(ratios) - len(reached)} resamples had a curve ending below the target)"
    else:
        text += "no resample has both curves reaching the target"
    others = []
    for other in SENSITIVITY_TOLERANCES:
        value = headline_ratio(sweeps, everything, other)
        others.append(f"{value:.2f} at {other}" if value is not None else f"not reached at {other}")
    return text + f"; with other tolerances the ratio is {', '.join(others)}."


def _need_text(need: Need, short: bool = False) -> str:
    if need.labels is None:
        return "—" if short else "not reached"
    if short:
        return f"{need.labels:.0f}"
    where = f"between budgets {need.between[0]} and {need.between[1]}" if need.between else "at a grid point"
    return f"{need.labels:.0f} labels ({where})"


def _preamble(stream: Stream, args: argparse.Namespace, elapsed: float, load_before: str) -> str:
    command = command_line(MODULE, args.argv)
    sizes = [len(r) for r in stream.rounds]
    return "\n".join(
        [
            (
                f"Measured {datetime.date.today().isoformat()} with `{command}` on {os.cpu_count()} cores "
                f"({platform.python_implementation()} {platform.python_version()}), {args.jobs} worker "
                f"processes, {elapsed:.0f} s; 1-minute load average {load_before} before, "
                f"{load_average()} after."
            ),
            "",
            (
                f"Dataset: {len(stream.texts)} items sorted by created_on"
                + (f" (the newest {args.exclude_newest:.0%} left out)" if args.exclude_newest else "")
                + f". Seed set: the oldest "
                f"{len(stream.seed)} ({args.seed_share:.0%}); stream: {len(stream.rounds)} rounds of "
                f"{min(sizes)}-{max(sizes)} items; holdout: the newest {len(stream.holdout)} "
                f"({args.holdout_share:.0%}), never streamed nor trained on. Algorithm "
                f"`{args.algorithm}`, retrained every round; review threshold = out-of-fold operating "
                f"point at 95% precision from stratified {args.cv_folds}-fold CV on the current training "
                "set (the system uses 5 folds; 3 keep the run short). Unlabelled streamed items carry "
                "over and are re-scored by each retrained model. Reports: an item shown auto-accepted "
                f"with a wrong tag gets reported with chance {args.report_rate} (one draw per item and "
                "seed, the same for both orders); open reports are answered first in every order. "
                "Then uncertainty order takes the least confident unlabelled streamed items (the review "
                "queue, then auto-accepted items); random order takes them in a fresh random order each "
                "round (random sampling)."
            ),
        ]
    )


def _notes(args: argparse.Namespace) -> list[str]:
    return [
        "Notes:",
        (
            "- Labels spent count answers on stream items only; the seed set is already labelled. "
            "The F1 of a round is that of the model retrained on the round's answers, on the items "
            "not streamed yet (later rounds and the holdout); the last round's rest is the holdout."
        ),
        (
            f"- Seeds {_seed_list(args.seeds)} vary the model's random_state, the CV folds, the "
            "report draws and the random order; the time split is the same for every seed."
        ),
        "",
        *READING,
    ]


def _mean_sd(values: Sequence[float], sign: bool = False) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    mean = f"{statistics.mean(values):+.4f}" if sign else f"{statistics.mean(values):.4f}"
    return f"{mean} ± {sd:.4f}"


def _mean_or_dash(values: Sequence[float | None], template: str) -> str:
    present = [v for v in values if v is not None]
    return template.format(statistics.mean(present)) if present else "—"


def _seed_list(seeds: Sequence[int]) -> str:
    return ", ".join(str(s) for s in seeds)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argument_parser(MODULE, "Simulate the human-in-the-loop on the dataset.")
    add_docs_arguments(parser, SECTION)
    parser.add_argument("--seed-share", type=float, default=0.10)
    parser.add_argument("--holdout-share", type=float, default=0.20)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--exclude-newest",
        type=float,
        default=0.0,
        help="drop this share of the newest items before cutting (a development split)",
    )
    parser.add_argument(
        "--budgets", type=int, nargs="+", default=[8, 16, 24, 32, 48, 64, 80], help="labels per round to sweep"
    )
    parser.add_argument(
        "--table-budget", type=int, default=32, help="the budget whose rounds are tabulated (one of --budgets)"
    )
    parser.add_argument(
        "--algorithm",
        choices=sorted(ALGORITHMS),
        default=DEFAULT_ALGORITHM,
        help="the algorithm retrained every round (default: the system's default)",
    )
    parser.add_argument("--report-rate", type=float, default=0.3)
    parser.add_argument("--cv-folds", type=int, default=3)
    parser.add_argument("--tolerance", type=float, default=0.01)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if args.table_budget not in args.budgets:
        parser.error("--table-budget must be one of --budgets")
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


if __name__ == "__main__":
    main()
