"""gunicorn for tagloop's web processes: ``gunicorn -c gunicorn.conf.py config.wsgi``.

Every value comes from the environment (README, "Production and scaling"; .env.example).
"""

import logging
import multiprocessing
import os
import sys


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value in (None, "") else value.strip().lower() in ("1", "true", "yes", "on")


# Loopback unless told otherwise: the proxy in front (or a container's port mapping) decides exposure.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Predictions are CPU-bound, so a few processes per core. WEB_CONCURRENCY is the name many
# platforms set.
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))

# Threaded workers (gthread), 4 requests each at a time: the default model, minilm-linear, then
# encodes the texts of a worker's concurrent requests together (ml.batching, TAGLOOP_ENCODER_BATCH),
# which served 1.3x (numpy encoder) to 2.6x (ONNX int8 encoder) the requests of sync workers on 2
# cores ("Serving: against plain Django" in docs/benchmarks.md); gthread also keeps connections alive. GUNICORN_WORKER_CLASS=sync for one
# request per process.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 4)

# Import Django, numpy and scikit-learn once in the master and fork: the workers share those
# pages (less memory each) and a replaced worker starts at once. The price: new code needs a
# full restart, not a HUP, and nothing opened in the master may be used by a worker (pre_fork).
preload_app = _bool("GUNICORN_PRELOAD", True)

# A worker silent for longer than this is killed: under sync workers, a request running that
# long; under gthread, a worker whose main loop hangs (its threads' requests are not timed one by
# one). A retrain runs on Celery, never in a request. Workers finish their requests for up to
# graceful_timeout on SIGTERM.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Keep idle connections from the proxy this long; the proxy's own idle timeout should be
# shorter, or it may reuse a connection gunicorn has just closed (a 502).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle a worker after this many requests (0: never), spread so they do not all restart at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max(1, max_requests // 10) if max_requests else 0)

# Access and error logs to stdout/stderr ("-"), for the process manager or container runtime.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The peer is the proxy: its X-Forwarded-For is logged too, and the time taken in ms.
access_log_format = '%(h)s "%({x-forwarded-for}i)s" %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# The workers' heartbeat files on tmpfs: on an overlay or network disk a slow write can
# make the master think a healthy worker hangs.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicorn 25+ opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl):
# two servers on one machine would fight over it. Off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def pre_fork(server, worker):
    """Connections are per process: the master closes any it opened while preloading, before
    forking, so no worker inherits a socket another process also talks on. (Closing it in a
    worker instead would end the session for everyone holding the socket.)"""
    if not preload_app:
        return
    from django.core.cache import caches
    from django.db import connections

    connections.close_all()
    caches.close_all()


def worker_exit(server, worker):
    """A worker leaves without running C libraries' exit handlers.

    ONNX Runtime's global destructors wait on a condition variable of the thread pool that the
    master's preloaded encoder session made: in a forked worker those threads do not exist, so
    exit() hangs until the graceful timeout's SIGKILL, on every restart and deploy. gunicorn
    calls this hook in the worker as it leaves, after its last request; os._exit keeps the exit
    status gunicorn meant (0, or a boot error's code, which tells the master to stop).
    """
    error = sys.exc_info()[1]
    code = error.code if isinstance(error, SystemExit) else (0 if error is None else 1)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))
