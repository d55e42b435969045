"""Shared fixtures. Database tests run against DATABASE_URL (PostgreSQL in CI)."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from common.roles import ADMIN, ANNOTATOR, REVIEWER, roles_ensure
from labeling.defaults import DEFAULT_GUIDELINES, DEFAULT_TAGS
from tests import factories
from tests.browser import browser  # noqa: F401  (a fixture, shared with every test module)
from tests.cache_prefix import RUN_PREFIX

REPO = Path(__file__).resolve().parent.parent
DATASET = REPO / "data" / "madewithml_dataset.csv"

# pytest-django read the settings before this module was imported; no cache object exists
# yet (they are made on first use), so the run's prefix still applies to all of them.
settings.CACHES["default"]["KEY_PREFIX"] = RUN_PREFIX


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and the cached active version must not leak from one test into the next.

    On Redis this deletes only this run's keys (tests/cache_prefix.py), never the database.
    """
    from django.core.cache import cache

    from common.ratelimit import forget_claims
    from predictions.model_store import forget_serving_state

    cache.clear()
    forget_claims()  # a rate limit's claims live in the process, beside the counters
    forget_serving_state()
    yield


# TAGLOOP_TEST_ID_SHIFT=N advances every sequence of the test database by N before each database test, so a test
# whose outcome hangs on the ids it happens to get (an audit draw hashes the content id; a canary's arm hashes its
# id) fails here rather than when tests added elsewhere shift the ids. Unset or 0: no shift. See README, "Tests".
ID_SHIFT = int(os.environ.get("TAGLOOP_TEST_ID_SHIFT", "0") or 0)
_DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


@pytest.fixture(autouse=True)
def _ids_shifted(request):
    uses_database = request.node.get_closest_marker("django_db") or _DATABASE_FIXTURES & set(request.fixturenames)
    if ID_SHIFT and uses_database:
        request.getfixturevalue("django_db_setup")
        with request.getfixturevalue("django_db_blocker").unblock():
            sequences_advance(ID_SHIFT)
        # make_content's external ids count per process, and the split hashes them: the same hazard.
        factories.external_ids_advance(ID_SHIFT)
    yield


def sequences_advance(by: int) -> None:
    """Move every sequence of the database on by ``by`` values (setval is not rolled back with a test's transaction)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError("TAGLOOP_TEST_ID_SHIFT needs PostgreSQL (DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(format('%%I.%%I', schemaname, sequencename), COALESCE(last_value, start_value - 1) + %s)"
            " FROM pg_sequences",
            [by],
        )


@pytest.fixture(autouse=True, scope="session")
def _cache_keys_removed_at_the_end():
    yield
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def tags(db):
    """The seeded tag set (re-created after a transactional test flushed it)."""
    from labeling.models import Tag

    for position, (slug, name) in enumerate(DEFAULT_TAGS, start=1):
        definition, examples = DEFAULT_GUIDELINES[slug]
        Tag.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position, "definition": definition, "examples": examples}
        )
    return {tag.slug: tag for tag in Tag.objects.all()}


@pytest.fixture
def roles(db):
    roles_ensure()


def _user(django_user_model, username, group=None, **extra):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username, **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def annotator(roles, django_user_model):
    return _user(django_user_model, "ann", ANNOTATOR)


@pytest.fixture
def second_annotator(roles, django_user_model):
    return _user(django_user_model, "ann2", ANNOTATOR)


@pytest.fixture
def reviewer(roles, django_user_model):
    return _user(django_user_model, "rev", REVIEWER)


@pytest.fixture
def admin_user(roles, django_user_model):
    return _user(django_user_model, "boss", ADMIN, is_staff=True)


@pytest.fixture
def plain_user(roles, django_user_model):
    return _user(django_user_model, "visitor")


@pytest.fixture
def model_dir(tmp_path, settings):
    settings.MODEL_DIR = tmp_path / "models"
    return settings.MODEL_DIR


@pytest.fixture
def fresh_model_cache(monkeypatch):
    """An empty in-process model cache for the test: no model an earlier test loaded answers in its place."""
    from predictions import model_store

    monkeypatch.setattr(model_store, "_loaded", model_store.LoadedModels())


def _database_url() -> str:
    """The URL of the *test* database, for a worker in another process."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real ``celery worker`` process on the test database and its own queue.

    The queue name is unique per run so tasks left over from another run are never
    taken. Yields the models directory the worker writes to; the test process must
    read from the same one.
    """
    model_dir = tmp_path_factory.mktemp("worker-models")
    queue = f"tagloop-test-{uuid.uuid4().hex[:8]}"
    with celery_worker(tmp_path_factory, {"TAGLOOP_MODEL_DIR": str(model_dir)}, queue=queue) as log_path:
        _session_worker["queue"] = queue
        try:
            yield {"model_dir": model_dir, "log": log_path}
        finally:
            _session_worker.clear()


# The session's worker, once started: its queue. Every later test, whether it uses the worker or not, waits for
# it to be idle before its database is flushed (see pytest_runtest_teardown).
_session_worker: dict[str, str] = {}


@contextlib.contextmanager
def celery_worker(tmp_path_factory, env_overrides: dict, queue: str | None = None):
    """Run a worker on the test database with ``env_overrides``; tasks sent meanwhile go to it. Yields its log.

    Its queue (and so its node name, ``<queue>@<host>``) is ``queue``, or a new one.
    """
    from config.celery import app

    queue = queue or f"tagloop-test-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path_factory.mktemp("worker-log") / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONUNBUFFERED": "1",
        **env_overrides,
    }
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queue,
                "--concurrency=1",
                "--hostname",
                f"{queue}@%h",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_ready(process, log_path)
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        app.conf.task_default_queue = previous_queue


def _wait_for_ready(process, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited early:\n{log_path.read_text()}")
        if "ready." in log_path.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"celery worker not ready after {timeout}s:\n{log_path.read_text()}")


def wait_until(predicate, *, timeout: float = 120, interval: float = 0.3, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Before a test's database is flushed, let the session's worker finish what earlier tests left it doing.

    The worker may still be writing (a re-prediction after a promotion, say) when a test ends, and the
    flush's TRUNCATE then deadlocks with the worker's row locks. The work may come from any earlier test,
    not only this one, so every test waits once the worker has started. This runs before any fixture's
    teardown, so before the flush.
    """
    if _session_worker:
        _wait_for_worker_idle(_session_worker["queue"])
    return (yield)


def _wait_for_worker_idle(queue: str, timeout: float = 120) -> None:
    """Until the worker has no task running or reserved and its queue is empty, twice in a row.

    The worker is asked before the queue is read: a task that sends another one before it ends is then
    seen either running or through the message it sent.
    """
    from config.celery import app

    inspector = app.control.inspect(destination=[f"{queue}@{socket.gethostname()}"], timeout=2.0)
    idle_in_a_row, deadline = 0, time.monotonic() + timeout
    while idle_in_a_row < 2:
        if time.monotonic() > deadline:
            raise AssertionError(f"the test worker was still busy after {timeout}s; see its log")
        idle = _worker_holds_no_task(inspector) and _queue_length(app, queue) == 0
        idle_in_a_row = idle_in_a_row + 1 if idle else 0
        if idle_in_a_row < 2:
            time.sleep(0.02 if idle else 0.2)


def _worker_holds_no_task(inspector) -> bool:
    for ask in (inspector.active, inspector.reserved):
        replies = ask()
        if not replies or any(replies.values()):  # no answer (busy starting a task) or tasks held
            return False
    return True


def _queue_length(app, queue: str) -> int:
    with app.connection_for_read() as conn:
        return conn.default_channel._size(queue)  # kombu's count of a queue's messages, for any transport


@pytest.fixture
def private_queue():
    """Messages go to a queue of this test's own, which no worker reads (none lands on a shared broker's queue)."""
    from config.celery import app

    previous, queue = app.conf.task_default_queue, f"tagloop-test-idle-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_default_queue = previous
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
