#!/usr/bin/env bash
# One process re-predicting N items in chunks beside the raw predict of the same texts (benchmarks/repredict_chunk.py),
# A/B/A: this code, the reference checkout TAGLOOP_BENCH_REFERENCE (its code and its schema: labeling and predictions are
# migrated back to the reference's last migrations first), this code again. Needs the database a bench-repredict run left
# (TAGLOOP_BENCH_DB, default tagloop_repredict_bench). REPREDICT_MODE=shown|first and the other knobs: see the module.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
reference=${TAGLOOP_BENCH_REFERENCE:?a checkout of the code to compare with, e.g. main}
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/${TAGLOOP_BENCH_DB:-tagloop_repredict_bench}
export TAGLOOP_MODEL_DIR=${TAGLOOP_MODEL_DIR:-$(mktemp -d)}
last_migration() {  # app: the reference's last migration of it (where B's schema is)
  ls "$reference/$1"/migrations/0*.py | sort | tail -1 | xargs basename | sed 's/\.py$//'
}

run() {  # label, tree
  echo "== $1: code $(git -C "$2" rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd "$2" && .venv/bin/python manage.py shell -v0 <"$here/benchmarks/repredict_chunk.py")
}
.venv/bin/python manage.py migrate --noinput -v0
run A "$here"
for app in predictions labeling; do
  .venv/bin/python manage.py migrate "$app" "$(last_migration "$app")" --noinput -v0
done
run B "$reference"
.venv/bin/python manage.py migrate --noinput -v0
run A "$here"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
