#!/usr/bin/env bash
# Real workers (one process each; two by default, as on this 2-core machine, or TAGLOOP_BENCH_WORKERS)
# against PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_rollout_bench
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/7}
export CELERY_TASK_DEFAULT_QUEUE=tagloop-bench
export TAGLOOP_MODEL_DIR=$(mktemp -d)
export TAGLOOP_AUDIT_SHARE=0.05
.venv/bin/python manage.py migrate --noinput -v0
pids=()
for n in $(seq 1 "${TAGLOOP_BENCH_WORKERS:-2}"); do
  .venv/bin/celery -A config worker -n "bench$n@%h" -Q tagloop-bench --concurrency=1 --loglevel=WARNING &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$TAGLOOP_MODEL_DIR"' EXIT
sleep 5
.venv/bin/python manage.py bench_rollout "$@"
