"""Durable work: jobs recorded in the database, sent to the broker, claimed with a heartbeat.

The life of a job:
- ``jobs_create`` writes the row in the caller's transaction and sends a message once
  it commits. A send that fails (broker down) is logged and recorded on the row; it
  never fails the action that asked for the work.
- ``job_run`` (the Celery task's body) claims the job with a fresh token, beats while it
  runs, and finishes it. A pending job, or a running one whose heartbeat is stale (its
  worker died), may be claimed; a running job with a live heartbeat may not, so a
  redelivered or re-sent message never runs work twice at the same time.
- The reconciler (predictions.services.reconciler) re-sends jobs that no live worker owns.
"""

import logging
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from predictions.models import Job, JobKind, JobStatus, ModelVersion

logger = logging.getLogger(__name__)

# A prediction chunk that failed (a database blip, say) is tried this many times in all.
MAX_PREDICT_ATTEMPTS = 5

# Per kind: Celery's hard and soft time limits. They stay below the broker's visibility
# timeout (settings), so a message is never redelivered while its task may still run.
# By kind; str keys, since a job's kind comes back from the database as a plain str.
TIME_LIMITS: dict[str, dict[str, int]] = {
    JobKind.TRAIN: {"soft_time_limit": 1800, "time_limit": 1900},
    JobKind.PREDICT: {"time_limit": 600},
    JobKind.DRIFT_CHECK: {"time_limit": 900},
}


def jobs_create(
    *, kind: str, model_version: ModelVersion | None = None, chunks: Iterable[Sequence[int]] = ((),)
) -> list[Job]:
    """Record one job per chunk of content ids (one job for kinds without items); send them after commit."""
    jobs = Job.objects.bulk_create(
        [Job(kind=kind, model_version=model_version, content_ids=list(chunk)) for chunk in chunks], batch_size=500
    )
    transaction.on_commit(partial(jobs_dispatch, job_ids=[job.pk for job in jobs]))
    return jobs


def jobs_create_predict(
    *, model_version: ModelVersion, content_ids: list[int], chunk_size: int | None = None
) -> list[Job]:
    """Prediction jobs of ``content_ids`` in chunks any worker can take."""
    size = chunk_size or settings.TAGLOOP_PREDICT_CHUNK_SIZE
    chunks = [content_ids[start : start + size] for start in range(0, len(content_ids), size)]
    return jobs_create(kind=JobKind.PREDICT, model_version=model_version, chunks=chunks) if chunks else []


def jobs_dispatch(*, job_ids: list[int]) -> int:
    """Send one message per job; returns how many were sent. Never raises.

    At the first failure it stops (the broker is down: each further send would wait for
    it again) and records the error on the jobs not sent; the reconciler sends them once
    the broker answers.
    """
    from predictions.tasks import run_job

    kinds = dict(Job.objects.filter(pk__in=job_ids).values_list("pk", "kind"))
    sent: list[int] = []
    for job_id in job_ids:
        try:
            run_job.apply_async(
                args=[job_id],
                retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
                **TIME_LIMITS.get(kinds.get(job_id, ""), {}),
            )
        except Exception as exc:  # noqa: BLE001 - any broker failure: the row keeps the work
            error = f"{type(exc).__name__}: {exc}"[:500]
            logger.warning(
                "broker unreachable; %s job(s) recorded, the reconciler will send them: %s",
                len(job_ids) - len(sent),
                error,
            )
            Job.objects.filter(pk__in=job_ids[len(sent) :]).update(dispatch_error=error)
            break
        sent.append(job_id)
    if sent:
        Job.objects.filter(pk__in=sent).update(dispatched_at=timezone.now(), dispatch_error="")
    return len(sent)


@dataclass(frozen=True)
class Claim:
    job: Job
    token: str


def job_claim(*, job_id: int, worker: str = "") -> Claim | None:
    """Take the job if nobody live holds it: pending, running with a stale heartbeat, or held by a dead process.

    A pool process killed mid-job has its message put back at once (reject_on_worker_lost)
    while its heartbeat still looks fresh; when that process was on this machine and no
    longer exists, the redelivered message takes the job over without waiting for the
    heartbeat to go stale.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.TAGLOOP_STALE_AFTER_SECONDS)
    token = uuid.uuid4().hex
    previous = Job.objects.filter(pk=job_id).values_list("status", "heartbeat_at", "claimed_by", "claim_token").first()
    claimable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale)
    if previous and previous[0] == JobStatus.RUNNING and _holder_is_gone(previous[2]):
        claimable |= Q(status=JobStatus.RUNNING, claim_token=previous[3])
    claimed = Job.objects.filter(claimable, pk=job_id).update(
        status=JobStatus.RUNNING,
        claim_token=token,
        claimed_by=_holder_name(worker),
        claimed_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    if previous and previous[0] == JobStatus.RUNNING:
        logger.warning(
            "job %s: taking it over from %s, last heartbeat %s", job_id, previous[2] or "a worker", previous[1]
        )
    return Claim(Job.objects.get(pk=job_id), token)


def _holder_name(worker: str) -> str:
    """Who holds a claim, for people and for ``_holder_is_gone``: "<worker> (pid N on <host>)"."""
    return f"{worker} (pid {os.getpid()} on {socket.gethostname()})".strip()[:200]


_HOLDER = re.compile(r"\(pid (\d+) on (.+)\)$")


def _holder_is_gone(claimed_by: str) -> bool:
    """True only when the holder was a process of this machine that no longer exists."""
    match = _HOLDER.search(claimed_by or "")
    if not match or match.group(2) != socket.gethostname():
        return False  # another machine's process: only its heartbeat can tell
    pid = int(match.group(1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, as another user
    return False


class Heartbeat:
    """Keeps a claimed job's ``heartbeat_at`` fresh from a thread while its work runs.

    The thread has its own database connection. When its write matches nothing, another
    worker has taken the job over (this one was silent too long): ``still_owner`` turns
    False and long work stops at its next step instead of racing the new owner.
    """

    def __init__(self, claim: Claim):
        self.claim = claim
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-job-{claim.job.pk}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def still_owner(self) -> bool:
        return not self._lost.is_set()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(settings.TAGLOOP_HEARTBEAT_SECONDS):
                try:
                    mine = Job.objects.filter(
                        pk=self.claim.job.pk, claim_token=self.claim.token, status=JobStatus.RUNNING
                    ).update(heartbeat_at=timezone.now())
                except DatabaseError:
                    logger.warning("job %s: heartbeat not written (database unreachable)", self.claim.job.pk)
                    # Drop the broken connection: the next beat opens a new one once the
                    # database is back (this thread gets no request cycle to do it).
                    with suppress(DatabaseError):
                        connection.close()
                    continue
                if not mine:
                    logger.warning("job %s: another worker took it over; stopping", self.claim.job.pk)
                    self._lost.set()
                    return
        finally:
            connection.close()  # this thread's own connection


def job_run(*, job_id: int, worker: str = "") -> None:
    """Claim the job as ``worker``, do its work with a heartbeat, and record how it ended."""
    claim = job_claim(job_id=job_id, worker=worker)
    if claim is None:
        logger.info("job %s is finished or held by a live worker; nothing to do", job_id)
        return
    with Heartbeat(claim) as heartbeat:
        try:
            _RUNNERS[claim.job.kind](claim.job, heartbeat.still_owner)
        except Exception as exc:
            _job_failed(claim, exc)
            raise
    _job_finish(claim, status=JobStatus.DONE)


def _run_train(job: Job, still_owner: Callable[[], bool]) -> None:
    from predictions.services.training import model_version_train

    model_version_train(model_version_id=_version_id(job), still_owner=still_owner)


def _run_predict(job: Job, still_owner: Callable[[], bool]) -> None:
    from predictions.services.batch import predictions_create

    predictions_create(model_version_id=_version_id(job), content_ids=job.content_ids)


def _run_drift_check(job: Job, still_owner: Callable[[], bool]) -> None:
    from predictions.services.drift import drift_checks_run
    from predictions.services.emerging import emerging_topics_refresh

    drift_checks_run()
    emerging_topics_refresh()


_RUNNERS: dict[str, Callable[[Job, Callable[[], bool]], None]] = {
    JobKind.TRAIN: _run_train,
    JobKind.PREDICT: _run_predict,
    JobKind.DRIFT_CHECK: _run_drift_check,
}


def _version_id(job: Job) -> int:
    """The version a train or predict job works for: jobs_create always gives them one (and a deleted
    version takes its jobs with it), so None is a broken row, failed with a message rather than run."""
    if job.model_version_id is None:
        raise ValueError(f"{job.kind} job {job.pk} has no model version")
    return job.model_version_id


def _job_finish(claim: Claim, *, status: str, error: str = "") -> None:
    ended = Job.objects.filter(pk=claim.job.pk, claim_token=claim.token).update(
        status=status, finished_at=timezone.now(), error=error
    )
    if not ended:
        logger.warning("job %s: finished, but another worker had taken it over meanwhile", claim.job.pk)


def _job_failed(claim: Claim, exc: Exception) -> None:
    """A training run that raised is over (its version says why); a prediction chunk is tried again.

    A chunk goes back to pending with no message: the reconciler's next round sends it,
    which spaces the attempts by one period.
    """
    error = f"{type(exc).__name__}: {exc}"[:2000]
    try:
        if claim.job.kind == JobKind.PREDICT and claim.job.attempts < MAX_PREDICT_ATTEMPTS:
            Job.objects.filter(pk=claim.job.pk, claim_token=claim.token).update(
                status=JobStatus.PENDING, dispatched_at=None, claim_token="", error=error
            )
        else:
            _job_finish(claim, status=JobStatus.FAILED, error=error)
    except DatabaseError:
        # The database is what failed: the heartbeat goes stale and the reconciler
        # hands the job to a worker once the database is back.
        logger.warning("job %s: its failure could not be recorded", claim.job.pk)


def job_resume(*, job: Job) -> bool:
    """Send a stalled job again now (the models page's Resume button); False when it is not stalled."""
    from predictions.selectors import job_is_stalled

    if not job_is_stalled(job=job):
        return False
    return jobs_dispatch(job_ids=[job.pk]) == 1
