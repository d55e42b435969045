"""Several machines that share nothing but PostgreSQL and Redis (issue: runs on more than one machine).

"Machine" A runs the web server, B and C one worker each, every one with its own
TAGLOOP_VAR_DIR (no shared disk: models travel through the database store), and
celery beat runs on both B and C, as someone copying the one-machine setup would do.
The loop: load data, retrain, promote, re-predict spread over both workers, predict
on the web, a report, a second retrain. It asserts one retrain per request, every
item predicted by the active model exactly once, and no 5xx from the web.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import requests

from tests.conftest import REPO, wait_until

pytestmark = [pytest.mark.multihost, pytest.mark.worker]

PG = "postgres://postgres@127.0.0.1:5432"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    """A database of its own on the shared server, a queue of its own on the shared Redis, three "machines"."""
    name = f"tagloop_multihost_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    common = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{name}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CELERY_TASK_DEFAULT_QUEUE": f"tagloop-multihost-{uuid.uuid4().hex[:8]}",
        "TAGLOOP_MODEL_STORE": "database",
        # One key for every machine, as a deployment sets it (each var dir would make its own).
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "TAGLOOP_PREDICT_CHUNK_SIZE": "40",
        "TAGLOOP_RECONCILE_EVERY_SECONDS": "2",
        "TAGLOOP_AUTO_RETRAIN_MIN_NEW_LABELS": "0",  # only the retrains this test asks for
        "TAGLOOP_CV_FOLDS": "3",
        "PYTHONUNBUFFERED": "1",
    }
    machines = {}
    for machine in ("a", "b", "c"):
        var = tmp_path / machine
        var.mkdir()
        machines[machine] = {**common, "TAGLOOP_VAR_DIR": str(var), "TAGLOOP_MODEL_DIR": str(var / "models")}
    processes: list[subprocess.Popen] = []
    try:
        yield _Cluster(machines, processes, tmp_path, common["DATABASE_URL"])
    finally:
        for process in processes:
            _stop(process)
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _Cluster:
    def __init__(self, machines, processes, tmp_path: Path, database_url: str):
        self.machines, self.processes, self.tmp_path, self.database_url = machines, processes, tmp_path, database_url

    def manage(self, machine: str, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.machines[machine],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)} on {machine}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def start_worker(self, machine: str) -> Path:
        env, log = self.machines[machine], self.tmp_path / f"worker-{machine}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--beat",
            "-s",
            str(Path(env["TAGLOOP_VAR_DIR"]) / "celerybeat-schedule"),
            "-n",
            f"worker-{machine}@%h",
            "-Q",
            env["CELERY_TASK_DEFAULT_QUEUE"],
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
        self._spawn(command, env, log)
        wait_until(lambda: "ready." in log.read_text(), timeout=60, message=f"worker {machine} ready")
        return log

    def start_web(self, machine: str) -> str:
        port = _free_port()
        log = self.tmp_path / f"web-{machine}.log"
        self._spawn(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
            self.machines[machine],
            log,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(f"{base}/healthz/live"), timeout=60, message=f"web on {machine}")
        return base

    def _spawn(self, command, env, log: Path) -> None:
        with log.open("w") as handle:
            self.processes.append(
                subprocess.Popen(
                    command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
                )
            )

    def query(self, sql: str, *params):
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params).fetchall()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stop a process this test started, and its children (a worker's pool, gunicorn's workers)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_candidate(cluster: _Cluster, number: int) -> tuple[str, str]:
    def state():
        rows = cluster.query("SELECT status, error FROM predictions_modelversion WHERE number = %s", number)
        return rows[0] if rows and rows[0][0] in ("candidate", "failed") else None

    status, error = wait_until(state, timeout=240, message=f"v{number} trained on a worker")
    assert status == "candidate", error
    [(claimed_by, attempts)] = cluster.query(
        "SELECT j.claimed_by, j.attempts FROM predictions_job j JOIN predictions_modelversion v"
        " ON j.model_version_id = v.id WHERE v.number = %s AND j.kind = 'train'",
        number,
    )
    return claimed_by, attempts


def test_the_loop_runs_on_three_machines_that_share_only_the_database_and_redis(cluster):
    cluster.manage("a", "migrate", "--noinput", "-v0")
    cluster.manage("a", "load_demo_data")
    logs = {machine: cluster.start_worker(machine) for machine in ("b", "c")}
    web = cluster.start_web("a")
    statuses = []

    # A retrain asked for on A is trained by a worker on B or C, and only once.
    first = int(cluster.manage("a", "train").strip().splitlines()[-1])
    trained_by, attempts = _wait_for_candidate(cluster, first)
    assert attempts == 1 and trained_by.split("@")[0] in ("worker-b", "worker-c")

    # Promoted on A: the artifact comes from the database, not from B's or C's disk.
    cluster.manage("a", "promote", str(first))
    total = cluster.query("SELECT count(*) FROM labeling_content")[0][0]

    def repredicted():
        return (
            cluster.query(
                "SELECT count(*) FROM predictions_prediction p JOIN predictions_modelversion v ON p.model_version_id = v.id"
                " WHERE v.number = %s AND p.predicted_at >= v.promoted_at",
                first,
            )[0][0]
            == total
        )

    wait_until(repredicted, timeout=240, message="every item re-predicted by the active model")
    workers = {
        row[0].split("@")[0]
        for row in cluster.query("SELECT DISTINCT claimed_by FROM predictions_job WHERE kind = 'predict'")
    }
    assert workers == {"worker-b", "worker-c"}, "the re-prediction's chunks should spread over both machines"

    # The web on A predicts with the model B or C trained.
    response = requests.post(
        f"{web}/api/v1/predict",
        json={"title": "Transformers for machine translation", "description": "sequence to sequence attention"},
    )
    statuses.append(response.status_code)
    assert response.status_code == 200 and response.json()["model_version"] == first
    # A wrong-tag report from an end user on A.
    [(content_id,)] = cluster.query("SELECT id FROM labeling_content ORDER BY id LIMIT 1")
    report = requests.post(f"{web}/api/v1/content/{content_id}/reports", json={"comment": "looks wrong"})
    statuses.append(report.status_code)
    assert report.status_code == 201
    for path in ("/", "/healthz/ready", f"/content/{content_id}/"):
        statuses.append(requests.get(f"{web}{path}").status_code)

    # A second retrain: one new version, trained once, by whichever worker is free.
    second = int(cluster.manage("a", "train").strip().splitlines()[-1])
    _, attempts = _wait_for_candidate(cluster, second)
    assert attempts == 1 and second == first + 1
    assert cluster.query("SELECT count(*) FROM predictions_modelversion")[0][0] == 2

    # Every item has exactly one prediction by the active model; beat on two machines ran each duty once a period.
    assert cluster.query(
        "SELECT count(*), count(DISTINCT content_id) FROM predictions_prediction p"
        " JOIN predictions_modelversion v ON p.model_version_id = v.id WHERE v.status = 'active'"
    )[0] == (total, total)
    assert all(status < 500 for status in statuses), statuses
    assert cluster.query("SELECT count(*) FROM predictions_job WHERE status = 'failed'")[0][0] == 0
    for machine, log in logs.items():
        assert "Traceback" not in log.read_text(), f"worker {machine}:\n{log.read_text()[-3000:]}"
