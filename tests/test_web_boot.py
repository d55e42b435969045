"""A web process is ready before its first request: URLs and the serving model loaded at boot, no torch."""

import gc
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from config.warm import warm_web_process
from predictions import model_store
from tests.conftest import REPO, _database_url, wait_until
from tests.factories import lose_artifact, make_active_model

WARM_LINE = "web process warm in"


@pytest.fixture(autouse=True)
def _fresh_models(fresh_model_cache):
    yield
    gc.unfreeze()  # what warming froze belongs to this test process, which goes on


def test_what_boot_made_is_frozen_so_forked_workers_keep_sharing_its_pages(db, tags, model_dir):
    gc.unfreeze()
    make_active_model(tags)
    warm_web_process()
    assert gc.get_freeze_count() > 10_000  # the modules, the URLs and the model: out of the collector's sight


@pytest.mark.django_db
def test_warming_loads_the_active_model_before_any_request(tags, model_dir, caplog):
    version = make_active_model(tags)
    with caplog.at_level("INFO", logger="config.warm"):
        warm_web_process()
    assert model_store._loaded.keys() == [(version.number, version.artifact_sha256)]
    assert any(
        WARM_LINE in r.getMessage() and f"v{version.number} tfidf-linear" in r.getMessage() for r in caplog.records
    )


@pytest.mark.django_db
def test_a_process_that_cannot_warm_still_starts_and_says_why(client, tags, model_dir, caplog):
    with caplog.at_level("INFO", logger="config.warm"):
        warm_web_process()  # nothing active yet
    assert any("no active model" in r.getMessage() for r in caplog.records)
    version = make_active_model(tags)
    lose_artifact(version)
    # A promotion forgets the cached serving state on commit, which this test's transaction never reaches.
    model_store.forget_serving_state()
    with caplog.at_level("WARNING", logger="config.warm"):
        warm_web_process()
    assert any("not warmed" in r.getMessage() and "ModelUnavailable" in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]
    # The request says the same thing the log did.
    assert client.post(reverse("api-predict"), {"title": "x"}, content_type="application/json").status_code == 503


def _start_gunicorn(port: int, log: Path, *, preload: bool) -> subprocess.Popen:
    # The shipped gunicorn.conf.py, as a deployment runs it.
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        "TAGLOOP_WARM_AT_BOOT": "true",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_PRELOAD": "true" if preload else "false",
    }
    with open(log, "w") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"), "config.wsgi:application"],
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
            except (OSError, IndexError):
                continue
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("preload", [False, True], ids=["each-worker", "preload"])
def test_gunicorn_workers_are_warm_before_the_first_request_and_never_load_torch(tags, tmp_path, preload):
    import http.client
    import json

    version = make_active_model(tags)  # in the database model store the server reads
    log = tmp_path / "gunicorn.log"
    port = _free_port()
    server = _start_gunicorn(port, log, preload=preload)
    try:
        expected = 1 if preload else 2  # once before the fork, or once in each worker
        wait_until(
            lambda: log.read_text().count(WARM_LINE) >= expected and len(_children(server.pid)) == 2,
            timeout=120,
            message=f"{expected} warm line(s) in {log}",
        )
        time.sleep(0.5)
        text = log.read_text()
        assert text.count(WARM_LINE) == expected and f"v{version.number} tfidf-linear" in text
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(
            "POST",
            "/api/v1/predict",
            body=json.dumps({"title": "Object detection with YOLO"}),
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["model_version"] == version.number
        for pid in _children(server.pid):
            # A tfidf model needs nothing of torch, even where the embeddings extra is installed.
            assert "libtorch" not in Path(f"/proc/{pid}/maps").read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_starting_django_and_loading_every_url_imports_no_heavy_ml_library():
    # What every command (manage.py runs django.setup: the admin, the models) and a web
    # process before its first prediction pay; scikit-learn, scipy and skops come with a model.
    code = (
        "import sys, django; django.setup(); "
        "from django.urls import get_resolver; get_resolver().url_patterns; "
        "import predictions.admin, predictions.tasks, labeling.quality; "
        "print(sorted(m for m in ('scipy', 'sklearn', 'skops.io', 'torch') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.development"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
