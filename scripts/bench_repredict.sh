#!/usr/bin/env bash
# Re-prediction near its limit (issue 18). For each item count (TAGLOOP_BENCH_SIZES, default 100000 300000):
# a fresh scratch database, two real workers (one process each) against PostgreSQL and Redis, one retrain
# (tfidf-linear unless TAGLOOP_BENCH_ALGORITHM says), then the promotion's re-prediction of every item; the same
# run measures the model's raw predict rate and PostgreSQL's COPY rate (benchmarks/rollout_limits.py).
# With TAGLOOP_BENCH_REFERENCE=<a checkout of other code, e.g. main> each count runs A/B/A: this code, the
# reference's workers and schema (with its chunk size, TAGLOOP_BENCH_REFERENCE_CHUNK, default 500), this code again
# (with TAGLOOP_PREDICT_CHUNK_SIZE when given, else its own default).
# TAGLOOP_BENCH_REPROMOTE=1 also times a second promotion, when every item already shows a tag.
# TAGLOOP_BENCH_PGHOST / TAGLOOP_BENCH_PGPORT (default 127.0.0.1, 5432) point it at another server, e.g. a private one
# started with pg_stat_statements preloaded; TAGLOOP_BENCH_STATEMENTS=1 then prints each promotion's statements by
# total time. Each promotion prints the CPU per item of the workers' process trees and, when the server runs on this
# machine, of all PostgreSQL's processes (on a shared server that includes everyone else's backends).
# TAGLOOP_BENCH_ALGORITHM=minilm-linear retrains the default model instead (its first promotion encodes every item,
# about 100 items/s per worker: use 20,000 items, not 100,000); its raw rate is encoder and head, from text, and
# the head on the vectors stored in the database is printed beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
db=${TAGLOOP_BENCH_DB:-tagloop_repredict_bench}
pg=(-h "${TAGLOOP_BENCH_PGHOST:-127.0.0.1}" -p "${TAGLOOP_BENCH_PGPORT:-5432}" -U postgres)
export DATABASE_URL=postgres://postgres@${TAGLOOP_BENCH_PGHOST:-127.0.0.1}:${TAGLOOP_BENCH_PGPORT:-5432}/$db
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/7}
export CELERY_TASK_DEFAULT_QUEUE=tagloop-repredict-bench-$$
export TAGLOOP_AUDIT_SHARE=0.05
workers=${TAGLOOP_BENCH_WORKERS:-2}
pids=()
stop_workers() {
  if ((${#pids[@]})); then kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; fi
  pids=()
}
forget_queue() {  # this run's private queue and kombu's bindings of it: nothing left in the shared Redis
  stop_workers
  redis-cli -u "$REDIS_URL" DEL "$CELERY_TASK_DEFAULT_QUEUE" "_kombu.binding.$CELERY_TASK_DEFAULT_QUEUE" \
    "_kombu.binding_permanent.$CELERY_TASK_DEFAULT_QUEUE" >/dev/null || true
}
trap forget_queue EXIT

one_run() {  # label, code tree, item count, chunk size ("" = the tree's default)
  local label=$1 tree=$2 size=$3 chunk=$4
  psql "${pg[@]}" -d postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null
  createdb "${pg[@]}" "$db"
  export TAGLOOP_MODEL_DIR=$(mktemp -d)
  (cd "$tree" && exec .venv/bin/python manage.py migrate --noinput -v0)  # the schema of the code under test
  for n in $(seq 1 "$workers"); do
    (cd "$tree" && exec .venv/bin/celery -A config worker -n "repredict$n-$$@%h" -Q "$CELERY_TASK_DEFAULT_QUEUE" \
      --concurrency=1 --loglevel=WARNING >>"$TAGLOOP_MODEL_DIR/worker$n.log" 2>&1) &
    pids+=($!)
  done
  sleep 5
  echo "== $label: $size items, code $(git -C "$tree" rev-parse --short HEAD 2>/dev/null || echo "$tree"), load $(cut -d' ' -f1-3 /proc/loadavg)"
  # The tree's own command: its models match the schema its migrations made (another tree's may read columns this
  # schema lacks). Compare trees whose bench_rollout is the same, or the harness differs with the code.
  # The promotion makes the jobs: their size is the tree's default unless the run names one.
  local job_size=${chunk:-${TAGLOOP_PREDICT_CHUNK_SIZE:-}}
  (cd "$tree" && env TAGLOOP_BENCH_WORKER_PIDS="${pids[*]}" ${job_size:+TAGLOOP_PREDICT_CHUNK_SIZE=$job_size} \
    .venv/bin/python manage.py bench_rollout \
    --content "$size" --retrains 1 --algorithm "${TAGLOOP_BENCH_ALGORITHM:-tfidf-linear}" --workers "$workers" --limits --yes \
    ${TAGLOOP_BENCH_REPROMOTE:+--repromote})
  stop_workers
  grep -h "ERROR\|Traceback" "$TAGLOOP_MODEL_DIR"/worker*.log || true
  rm -rf "$TAGLOOP_MODEL_DIR"
}

for size in ${TAGLOOP_BENCH_SIZES:-100000 300000}; do
  one_run A "$here" "$size" ""
  if [[ -n "${TAGLOOP_BENCH_REFERENCE:-}" ]]; then
    one_run B "$TAGLOOP_BENCH_REFERENCE" "$size" "${TAGLOOP_BENCH_REFERENCE_CHUNK:-500}"
    one_run A "$here" "$size" ""
  fi
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
