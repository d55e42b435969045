"""Private services and processes for fault injection: each one started here, stopped by its own PID.

Destructive tests never touch the machine's shared PostgreSQL or Redis: they start a
``redis-server`` and a PostgreSQL cluster of their own on free loopback ports, and the
web and worker processes they kill are children of the test. Nothing here imports
pytest, so benchmarks (benchmarks/bench_faults.py) drive the same faults.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from glob import glob
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel's pick; a race is possible but harmless here)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout:g} s")


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (dead, not yet reaped by its parent) counts as dead."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # "pid (command) state ...": the state follows the last parenthesis.
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _kill_group(group: int, members: list[int]) -> None:
    """SIGKILL every process of a process group we created, and wait until ``members`` are gone.

    One signal to the group reaches the main process and all its children at once, with
    no window in which a child's PID could be reused by a stranger.
    """
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass  # nobody left in the group
    wait_for(lambda: not any(pid_alive(pid) for pid in members), timeout=10, what="killed processes exiting")


def _stop_process(process: subprocess.Popen | None, *, grace: float = 10, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class PrivateRedis:
    """A throwaway ``redis-server`` on a free port: no persistence, killed with ``kill -9``, restarted empty."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "PrivateRedis":
        log = open(self.workdir / f"redis-{self.port}.log", "a")  # noqa: SIM115 - the process owns it
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: port_open(self.port), timeout=10, what=f"redis-server on port {self.port}")
        return self

    def kill(self) -> None:
        """``kill -9``: what a crash or an OOM kill does; queued messages and cache keys are gone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        _stop_process(self.process)


class PrivatePostgres:
    """A PostgreSQL cluster of our own (``initdb`` + ``pg_ctl``) in a temporary folder, on a free port.

    initdb refuses to run as root, so as root the cluster belongs to the ``postgres``
    system user (commands run through ``runuser``). It listens on 127.0.0.1 only, trusts
    local connections, and trades durability for speed (no fsync): it lives for one run.
    """

    def __init__(self):
        self.port = free_port()
        self.bin = Path(sorted(glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="tagloop-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.owner = "postgres" if os.geteuid() == 0 else None
        if self.owner:
            shutil.chown(self.root, user=self.owner)
            self.root.chmod(0o700)

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.owner, "--"] if self.owner else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, cwd=self.root)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def init(self) -> "PrivatePostgres":
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session at once, as a crash or a failover does to the clients."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def sql(self, statement: str, *, dbname: str = "postgres", autocommit: bool = True) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=autocommit, connect_timeout=5) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def clone(self, template: str, name: str) -> str:
        """A new database copied from ``template`` (a file copy: far faster than migrating again)."""
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class WebServer:
    """gunicorn serving tagloop on a free loopback port with the given environment."""

    def __init__(self, env: dict, workdir: Path, *, workers: int = 2):
        self.env, self.workdir, self.workers = env, Path(workdir), workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"gunicorn-{self.port}.log"

    def start(self, *, timeout: float = 60) -> "WebServer":
        log = open(self.log_path, "a")  # noqa: SIM115 - the process owns it
        # The shipped gunicorn.conf.py (its pre_fork hook closes the master's connections), with
        # --preload: the app is imported once, before the port opens and the workers fork, so an
        # open port means workers ready to answer (importing tagloop takes seconds).
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                str(REPO / "gunicorn.conf.py"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "sync",
                "--timeout",
                "30",
                "--preload",
                "--graceful-timeout",
                "1",
                "--log-level",
                "warning",
                # gunicorn 27 opens a control socket at one fixed path per user: two servers would share it.
                "--no-control-socket",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(
            lambda: self.process.poll() is not None or port_open(self.port),
            timeout=timeout,
            what=f"gunicorn on port {self.port}",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{self.log_path.read_text()}")
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        # gunicorn 27's master waits out the whole graceful timeout even once its workers are gone.
        _stop_process(self.process)


class CeleryWorker:
    """A ``celery worker`` process (optionally with ``--beat``) that a test may kill, whole or in part."""

    def __init__(
        self, env: dict, workdir: Path, *, queue: str, concurrency: int = 1, beat: bool = False, name: str = "worker"
    ):
        self.env, self.workdir, self.queue = env, Path(workdir), queue
        self.concurrency, self.beat, self.name = concurrency, beat, name
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self, *, timeout: float = 60) -> "CeleryWorker":
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            self.queue,
            f"--concurrency={self.concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            self.hostname,
        ]
        if self.beat:
            # Its own schedule file, so a run never reads another run's "last run at" times.
            command += ["--beat", "--schedule", str(self.workdir / f"{self.name}-beat-schedule")]
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "a")  # noqa: SIM115 - the process owns it
        # A session (and process group) of its own: kill() signals the worker and its children together.
        self.process = process = subprocess.Popen(
            command,
            cwd=REPO,
            env={**self.env, "CELERY_TASK_DEFAULT_QUEUE": self.queue},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{self.log_path.read_text()[log_start:]}")
            with open(self.log_path) as handle:
                handle.seek(log_start)
                return " ready." in handle.read()

        wait_for(ready, timeout=timeout, what=f"celery worker {self.name}", interval=0.2)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "the worker was never started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def hostname(self) -> str:
        return f"{self.name}-{os.getpid()}@{socket.gethostname()}"

    def children(self) -> list[int]:
        """The PIDs of the main process's children: the pool, and with ``--beat`` the beat process."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def pool_processes(self, *, timeout: float = 10) -> list[int]:
        """The pool's PIDs, as the worker itself reports them (remote control over the site's broker).

        The process tree alone cannot tell a pool process from the embedded beat process.
        """
        from celery import Celery

        app = Celery(broker=self.env["REDIS_URL"])
        try:

            def ask():
                stats = app.control.inspect(destination=[self.hostname], timeout=1).stats() or {}
                return stats.get(self.hostname, {}).get("pool", {}).get("processes")

            return wait_for(ask, timeout=timeout, what=f"{self.name} reporting its pool", interval=0.2)
        finally:
            app.close()

    def kill_child(self) -> int:
        """SIGKILL one pool process, as the OOM killer would; the main process stays and forks a new one."""
        pid = self.pool_processes()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill(self) -> None:
        """SIGKILL the main process, its pool and beat at once: nothing is acknowledged, nothing cleaned up."""
        if self.process is None or self.process.poll() is not None:
            return
        members = [self.pid, *self.children()]
        _kill_group(self.pid, members)
        self.process.wait(timeout=10)

    def restart(self) -> "CeleryWorker":
        self.kill()
        return self.start()

    def stop(self) -> None:
        if self.process is None:
            return
        children = self.children()
        # SIGQUIT, celery's cold shutdown: a site is thrown away after a test, its tasks with it.
        _stop_process(self.process, grace=15, sig=signal.SIGQUIT)
        _kill_group(self.process.pid, children)  # the shutdown ends them; this is for a worker that hung
