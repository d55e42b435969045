"""gunicorn.conf.py: its values come from the environment, and gunicorn started with it serves tagloop."""

import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import _database_url
from tests.factories import make_active_model

REPO = Path(__file__).resolve().parent.parent
CONF = REPO / "gunicorn.conf.py"


def _config(monkeypatch, **env) -> dict:
    for name in [n for n in os.environ if n.startswith("GUNICORN_") or n == "WEB_CONCURRENCY"]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_the_defaults_preload_log_access_and_keep_the_control_socket_off(monkeypatch):
    conf = _config(monkeypatch)
    assert conf["preload_app"] is True and conf["accesslog"] == "-" and conf["bind"] == "127.0.0.1:8000"
    assert conf["workers"] == 2 * os.cpu_count() + 1
    assert (conf["timeout"], conf["graceful_timeout"]) == (30, 30)
    assert conf["control_socket_disable"] is True and "control_socket" not in conf
    assert (conf["worker_class"], conf["threads"]) == ("gthread", 4)  # the encoder batches concurrent requests


def test_the_environment_sets_workers_timeouts_and_preload(monkeypatch):
    conf = _config(
        monkeypatch,
        GUNICORN_WORKERS="7",
        GUNICORN_TIMEOUT="45",
        GUNICORN_GRACEFUL_TIMEOUT="12",
        GUNICORN_PRELOAD="false",
        GUNICORN_BIND="0.0.0.0:9000",
        GUNICORN_MAX_REQUESTS="1000",
    )
    assert (conf["workers"], conf["timeout"], conf["graceful_timeout"]) == (7, 45, 12)
    assert conf["preload_app"] is False and conf["bind"] == "0.0.0.0:9000"
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (1000, 100)
    assert _config(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3
    one_at_a_time = _config(monkeypatch, GUNICORN_WORKER_CLASS="sync", GUNICORN_THREADS="1")
    assert (one_at_a_time["worker_class"], one_at_a_time["threads"]) == ("sync", 1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_for(url: str, process, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{log.read_text()}")
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn not answering after {timeout}s:\n{log.read_text()}")


def _start_gunicorn(tmp_path: Path, **environment: str) -> tuple[int, Path, subprocess.Popen]:
    """gunicorn with the repository's gunicorn.conf.py and 2 workers on the test database; its port, log, process."""
    port, log = _free_port(), tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "TAGLOOP_VAR_DIR": str(tmp_path / "var"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        **environment,
    }
    with open(log, "w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(CONF), "config.wsgi"],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return port, log, server


@pytest.mark.django_db(transaction=True)
def test_gunicorn_started_with_the_file_serves_pages_logs_access_and_stops_gracefully(tmp_path):
    port, log, server = _start_gunicorn(tmp_path, GUNICORN_GRACEFUL_TIMEOUT="10")
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz/live", server, log)
        status, page = _get(f"{base}/")
        assert status == 200 and "tagloop" in page
        status, health = _get(f"{base}/healthz/live")
        assert status == 200 and json.loads(health) == {"status": "ok"}
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    text = log.read_text()
    assert code == 0, text
    assert len(re.findall(r"Booting worker with pid", text)) == 2
    assert re.search(r'"GET / HTTP/1\.1" 200 \d+ \d+ms', text), text  # the access log, with the time taken
    assert "Shutting down: Master" in text


@pytest.mark.django_db(transaction=True)
def test_workers_forked_after_the_encoder_warmed_stop_at_once(tmp_path, tags):
    """The master preloads and warms minilm-linear (an ONNX Runtime session); its workers must exit on
    SIGTERM without hanging in the runtime's exit handlers until the graceful timeout kills them."""
    make_active_model(tags, algorithm="minilm-linear")
    port, log, server = _start_gunicorn(tmp_path, GUNICORN_PRELOAD="true", GUNICORN_GRACEFUL_TIMEOUT="60")
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz/live", server, log, timeout=120)
        assert "minilm-linear" in log.read_text()  # warmed in the master: the session exists before the fork
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            raise AssertionError(f"gunicorn still stopping 20 s after SIGTERM:\n{log.read_text()}") from None
    assert code == 0, log.read_text()
    assert "Shutting down: Master" in log.read_text()
