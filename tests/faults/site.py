"""A whole tagloop deployment on private services, for fault injection.

``seed_cluster`` fills a template database once per run (migrations, demo data, an active
model, an ingestion token); each ``Site`` clones it into a database of its own, copies
the model artifacts, and starts web servers and workers against its own Redis for the
broker and, if asked, another for the cache. A test breaks one piece (kills the cache
Redis, stops PostgreSQL, kills a worker) and watches what the rest does.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.faults.processes import REPO, CeleryWorker, PrivatePostgres, PrivateRedis, WebServer

SEED_DATABASE = "tagloop_seed"
# One strong key for every process of this run, as a deployment shares one (sessions signed
# by the web server, reporters' hashes); left unset, each site folder would generate its own.
SECRET_KEY = secrets.token_urlsafe(50)
# Settings of this process that must not leak into a site's processes (the test run's own
# database, broker, cache, folders and cache prefix).
_INHERITED_PREFIXES = ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "TAGLOOP_", "CELERY_", "DJANGO_")


# The durable-work timings of the settings, shortened so that tests see a takeover in
# seconds; the benchmark keeps the defaults (30 s stale bound, 10 s reconciler period).
FAST_RECOVERY = {
    "TAGLOOP_HEARTBEAT_SECONDS": "1",
    "TAGLOOP_STALE_AFTER_SECONDS": "5",
    "TAGLOOP_RECONCILE_EVERY_SECONDS": "2",
    "TAGLOOP_DISPATCH_GRACE_SECONDS": "4",
    "TAGLOOP_SWEEP_EVERY_SECONDS": "10",
}


@dataclass(frozen=True)
class Seed:
    database: str
    model_dir: Path
    token: str  # an ingestion key for source "faults"
    model_version: int  # the active one
    candidate: int  # trained, not promoted
    content_ids: list[int]


def site_environment(
    var_dir: Path,
    *,
    database_url: str,
    redis_url: str = "",
    cache_url: str = "",
    model_dir: Path | None = None,
    queue: str = "tagloop",
) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(_INHERITED_PREFIXES)}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "TAGLOOP_VAR_DIR": str(var_dir),
            "TAGLOOP_MODEL_DIR": str(model_dir or var_dir / "models"),
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            # Fault traffic comes from one address and one token: the limits must not answer 429.
            "TAGLOOP_PREDICT_RATE": "100000/minute",
            "TAGLOOP_REPORT_RATE": "100000/hour",
            "TAGLOOP_INGEST_RATE": "100000/minute",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    if cache_url:
        env["CACHE_URL"] = cache_url
    return env


def seed_cluster(postgres: PrivatePostgres, workdir: Path) -> Seed:
    """Migrate and fill the template database (about half a minute on two cores)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    postgres.sql(f'CREATE DATABASE "{SEED_DATABASE}"')
    out = workdir / "seed.json"
    env = site_environment(workdir, database_url=postgres.url(SEED_DATABASE))
    result = subprocess.run(
        [sys.executable, "-m", "tests.faults.seed", str(out)], cwd=REPO, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{result.stdout}\n{result.stderr}")
    # A template database must have no sessions while it is copied.
    postgres.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{SEED_DATABASE}'")
    data = json.loads(out.read_text())
    return Seed(
        database=SEED_DATABASE,
        model_dir=workdir / "models",
        token=data["token"],
        model_version=data["model_version"],
        candidate=data["candidate"],
        content_ids=data["content_ids"],
    )


class Site:
    """One deployment from the seed: its own database, model folder, queue, broker and cache."""

    def __init__(
        self,
        *,
        postgres: PrivatePostgres,
        seed: Seed,
        workdir: Path,
        broker: PrivateRedis | None = None,
        cache: PrivateRedis | None = None,
        settings: dict | None = None,
    ):
        self.postgres, self.seed, self.broker, self.cache = postgres, seed, broker, cache
        self.settings = dict(settings or {})  # more environment for every process of the site
        self.name = f"site_{uuid.uuid4().hex[:8]}"
        self.workdir = Path(workdir) / self.name
        self.workdir.mkdir(parents=True)
        self.database = self.name
        self.database_url = postgres.clone(seed.database, self.database)
        self.model_dir = self.workdir / "models"
        # With the database model store (the default on PostgreSQL) the artifacts came with the
        # clone; a local store's files are copied, so a site never overwrites another's.
        if seed.model_dir.is_dir():
            shutil.copytree(seed.model_dir, self.model_dir)
        self.queue = f"faults-{self.name}"
        self.processes: list = []

    @property
    def env(self) -> dict:
        env = site_environment(
            self.workdir,
            database_url=self.database_url,
            model_dir=self.model_dir,
            queue=self.queue,
            redis_url=self.broker.url(0) if self.broker else "",
            cache_url=self.cache.url(0) if self.cache else "",
        )
        return {**env, **self.settings}

    def web(self, *, workers: int = 2) -> WebServer:
        server = WebServer(self.env, self.workdir, workers=workers)
        self.processes.append(server)  # before start(): close() stops one that never got ready
        return server.start()

    def worker(self, *, concurrency: int = 1, beat: bool = False, name: str = "worker") -> CeleryWorker:
        worker = CeleryWorker(self.env, self.workdir, queue=self.queue, concurrency=concurrency, beat=beat, name=name)
        self.processes.append(worker)
        return worker.start()

    def running_web(self) -> WebServer:
        """The site's web server, started (one gunicorn worker) if none runs: faults in a row share it."""
        for process in self.processes:
            if isinstance(process, WebServer) and process.running:
                return process
        return self.web(workers=1)

    def running_worker(self) -> CeleryWorker:
        """The site's worker (with beat: the reconciler runs there), started again if a fault killed it."""
        for process in self.processes:
            if isinstance(process, CeleryWorker):
                return process if process.running else process.start()
        return self.worker(beat=True)

    def sql(self, statement: str) -> list[tuple]:
        """Read (or write) this site's database directly, as an operator with psql would."""
        return self.postgres.sql(statement, dbname=self.database)

    def value(self, statement: str):
        """The single value a query returns."""
        [(value,)] = self.sql(statement)
        return value

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
