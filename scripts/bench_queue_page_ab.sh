#!/usr/bin/env bash
# The queue page at a million items, this checkout (B) against BEFORE (A, a git ref), alternating A and B processes
# for R rounds (A B A B ...) on one already seeded database (seed it with `manage.py bench_queue_scale`), so both
# see the same load window. Prints p50/p99 over all requests, the range of the rounds' p50s, the login page (no
# queries) as the reference measured beside them, and the load average at the start of each round.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${BEFORE:?name the code to compare with, e.g. BEFORE=main}
R=${R:-10}
export N=${N:-25}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tagloop_scale_queue_bench}
PYTHON=$PWD/.venv/bin/python
driver=$PWD/scripts/bench_queue_page_ab.py
work=$(mktemp -d)
git worktree add --detach "$work/before" "$(git rev-parse --short "$BEFORE")" >/dev/null
trap 'git worktree remove --force "$work/before"; rm -rf "$work"' EXIT
for round in $(seq "$R"); do
  for side in A B; do
    dir=$PWD; [ "$side" = A ] && dir=$work/before
    load=$(cut -d' ' -f1 /proc/loadavg)
    line=$(cd "$dir" && "$PYTHON" manage.py shell < "$driver" 2>/dev/null | grep ^JSON)
    echo "$side $round $load ${line#JSON}" >> "$work/rounds"
  done
done
"$PYTHON" - "$work/rounds" "$BEFORE" <<'PY'
import json, statistics, sys

lines = [line.split(" ", 3) for line in open(sys.argv[1])]
def p(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))]
sides = {side: [json.loads(l[3]) for l in lines if l[0] == side] for side in "AB"}
loads = {side: [float(l[2]) for l in lines if l[0] == side] for side in "AB"}
print(f"A = {sys.argv[2]}, B = this checkout; {len(sides['A'])} rounds each; load at each round's start: "
      f"A {min(loads['A'])}-{max(loads['A'])}, B {min(loads['B'])}-{max(loads['B'])}")
print("| page | A p50 / p99 ms | B p50 / p99 ms | B/A p50 | rounds' p50 A | rounds' p50 B |")
print("|---|---|---|---|---|---|")
for page in ("queue", "reason", "source", "login"):
    cells = []
    for side in "AB":
        pooled = [t for run in sides[side] for t in run[page]]
        rounds = [statistics.median(run[page]) for run in sides[side]]
        cells.append((statistics.median(pooled), p(pooled, 99), min(rounds), max(rounds)))
    (a, a99, alo, ahi), (b, b99, blo, bhi) = cells
    print(f"| {page} | {a:.1f} / {a99:.1f} | {b:.1f} / {b99:.1f} | {b / a:.2f} | {alo:.1f}-{ahi:.1f} | {blo:.1f}-{bhi:.1f} |")
PY
