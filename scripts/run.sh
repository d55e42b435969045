#!/usr/bin/env bash
# Set up tagloop on this machine and run the web server and a worker (used by `make run`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${TAGLOOP_HOST:-127.0.0.1}
PORT=${TAGLOOP_PORT:-8000}

echo "==> database: ${DATABASE_URL:-SQLite in var/}; broker: ${REDIS_URL:-filesystem in var/broker}"
$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput --verbosity 0

echo "==> loading the demo dataset (Made With ML, MIT licence): older items labelled, newest as a stream"
$PY manage.py load_demo_data

echo "==> starting a worker (with celery beat for the automatic retrain check)"
.venv/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 >var/worker.log 2>&1 &
WORKER_PID=$!
trap 'echo "==> stopping the worker"; kill $WORKER_PID 2>/dev/null; wait $WORKER_PID 2>/dev/null' EXIT

if ! $PY manage.py shell -c "import sys; from predictions.selectors import active_model_version as a; sys.exit(0 if a() else 1)" 2>/dev/null; then
  echo "==> training and promoting a first model on the worker"
  VERSION=$($PY manage.py train --wait | tail -n 1)
  $PY manage.py promote "$VERSION"
fi

$PY manage.py create_demo_accounts
echo "==> tagloop at http://$HOST:$PORT/  (review queue: /review/, admin: /admin/, API docs: /api/v1/docs/)"
echo "    worker log: var/worker.log"
$PY manage.py runserver "$HOST:$PORT" --noreload
