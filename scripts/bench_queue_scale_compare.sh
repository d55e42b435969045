#!/usr/bin/env bash
# The review queue at a million items, before and after, in one run on one seeded database: the code at BEFORE
# (a git ref) measures first, with this checkout's benchmark copied in; then this checkout migrates the same
# database and measures, and writes both beside each other in docs/benchmarks.md. Extra arguments go to both runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${BEFORE:?name the code to compare with, e.g. BEFORE=main}
# Resolved once: a branch may move while the benchmark runs.
before=$(git rev-parse --short "$BEFORE")
after=$(git rev-parse --short HEAD)
DB=tagloop_queue_scale_bench
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
PYTHON=$PWD/.venv/bin/python
work=$(mktemp -d)
git worktree add --detach "$work/before" "$before" >/dev/null
trap 'git worktree remove --force "$work/before"; rm -rf "$work"' EXIT
cp labeling/management/queue_seeding.py labeling/management/trigger_cost.py "$work/before/labeling/management/"
cp labeling/management/commands/bench_queue_scale.py "$work/before/labeling/management/commands/"

psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
createdb -h 127.0.0.1 -U postgres "$DB"
echo "== before: $BEFORE at $before =="
(cd "$work/before" && "$PYTHON" manage.py migrate --noinput -v0 \
  && "$PYTHON" manage.py bench_queue_scale --no-write --no-trigger-cost --label before --save "$work/before.json" "$@")
echo "== after: $after =="
"$PYTHON" manage.py migrate --noinput -v0
psql -h 127.0.0.1 -U postgres -d "$DB" -qc "VACUUM ANALYZE"
"$PYTHON" manage.py bench_queue_scale --label "before: $BEFORE at $before, after: this checkout at $after" \
  --before "$work/before.json" "$@"
