#!/usr/bin/env bash
# Set up tagloop on this machine and run the web server and a worker (used by `make run`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# A setting from the environment, else from .env (as config/settings/base.py reads them), else the default.
setting() {
  $PY -c 'import os, sys, environ; environ.Env.read_env(".env", overwrite=False); print(os.environ.get(sys.argv[1], sys.argv[2]))' "$1" "$2"
}
HOST=$(setting TAGLOOP_HOST 127.0.0.1)
PORT=$(setting TAGLOOP_PORT 8000)
VAR=$(setting TAGLOOP_VAR_DIR var)  # the settings keep SQLite, the broker and models there too
METRICS_TOKEN=$(setting TAGLOOP_METRICS_TOKEN "")
mkdir -p "$VAR"

echo "==> database: ${DATABASE_URL:-SQLite in $VAR/}; broker: ${REDIS_URL:-filesystem in $VAR/broker}"
$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput --verbosity 0

echo "==> loading the demo dataset (Made With ML, MIT licence): older items labelled, newest as a stream"
$PY manage.py load_demo_data

echo "==> starting a worker (with celery beat for the automatic retrain check)"
.venv/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 >"$VAR/worker.log" 2>&1 &
WORKER_PID=$!
stop_worker() {
  echo "==> stopping the worker"
  kill "$WORKER_PID" 2>/dev/null || return 0
  # A warm shutdown waits for running tasks; the filesystem broker can keep it
  # polling for half a minute, so give it 10 s, then stop it for good.
  for _ in $(seq 20); do kill -0 "$WORKER_PID" 2>/dev/null || return 0; sleep 0.5; done
  echo "    the worker did not stop within 10 s: killing it"
  pkill -KILL -P "$WORKER_PID" 2>/dev/null || true
  kill -KILL "$WORKER_PID" 2>/dev/null || true
  wait "$WORKER_PID" 2>/dev/null || true
}
trap stop_worker EXIT

# A first model, unless one is active and its artifact is in the model store ($VAR may have been wiped).
MODEL_STATE=$($PY manage.py shell -c "
from predictions.artifact_store import artifact_exists
from predictions.selectors import active_model_version
active = active_model_version()
print('none' if active is None else 'ok' if artifact_exists(active) else 'missing')" 2>/dev/null | tail -n 1)
if [ "$MODEL_STATE" != ok ]; then
  echo "==> training and promoting a first model on the worker"
  VERSION=$($PY manage.py train --wait | tail -n 1)
  if [ "$MODEL_STATE" = missing ]; then
    $PY manage.py promote "$VERSION" --override-reason "make run: the active model's artifact was missing"
  else
    $PY manage.py promote "$VERSION"
  fi
fi

# New accounts get passwords printed once; existing ones keep theirs, so a restart logs nobody out.
$PY manage.py create_demo_accounts
echo "==> tagloop at http://$HOST:$PORT/  (review queue: /review/, admin: /admin/, API docs: /api/v1/docs/)"
if [ -n "$METRICS_TOKEN" ]; then
  echo "    metrics: http://$HOST:$PORT/metrics with the header 'Authorization: Bearer \$TAGLOOP_METRICS_TOKEN'"
else
  echo "    metrics: /metrics is off; set TAGLOOP_METRICS_TOKEN (in .env or the environment) to turn it on"
fi
echo "    worker log: $VAR/worker.log"
$PY manage.py runserver "$HOST:$PORT" --noreload
