"""The reconciler: every few seconds, send again the work that no live worker owns.

Run by celery beat under a lease (one run per period however many beats tick). It
finds, from the database alone:
- jobs whose message could not be sent (the broker was down when they were recorded);
- running jobs whose heartbeat is stale: their worker died (SIGKILL, a lost machine);
- pending jobs sent a while ago that no worker took while the broker's queue is empty:
  their message was lost (a broker restarted without its data);
- items lacking the active model's prediction that no unfinished job covers (a safety
  net behind the three above, on its own slower period).
Sending twice is harmless: a job is claimed once, and a claim with a live heartbeat is
never taken over.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from predictions import selectors
from predictions.models import Job, JobKind, JobStatus
from predictions.services.jobs import jobs_create_predict, jobs_dispatch
from predictions.services.leases import lease_take

logger = logging.getLogger(__name__)


@dataclass
class Reconciled:
    unsent: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    swept_items: int = 0


def work_reconcile(*, sweep: bool | None = None) -> Reconciled:
    """One round. ``sweep`` forces (True) or skips (False) the missing-prediction sweep; None: on its period."""
    now = timezone.now()
    done = Reconciled()
    unfinished = Job.objects.filter(status__in=[JobStatus.PENDING, JobStatus.RUNNING])
    done.unsent = list(
        unfinished.filter(status=JobStatus.PENDING, dispatched_at__isnull=True).values_list("pk", flat=True)
    )
    stale_before = now - timedelta(seconds=settings.TAGLOOP_STALE_AFTER_SECONDS)
    done.stale = list(
        unfinished.filter(status=JobStatus.RUNNING)
        .filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True))
        .values_list("pk", flat=True)
    )
    done.lost = _lost_messages(unfinished, now)
    for name, ids in (("never sent", done.unsent), ("no heartbeat", done.stale), ("message lost", done.lost)):
        if ids:
            logger.warning("reconciler: sending %s job(s) again (%s): %s", len(ids), name, ids[:20])
    jobs_dispatch(job_ids=[*done.unsent, *done.stale, *done.lost])
    if sweep or (sweep is None and lease_take(name="sweep", every_seconds=settings.TAGLOOP_SWEEP_EVERY_SECONDS)):
        done.swept_items = _sweep_missing_predictions(now)
    return done


def _lost_messages(unfinished, now) -> list[int]:
    """Pending jobs sent more than a grace period ago, when the broker's queue holds nothing.

    An empty queue with work still pending means its message is gone: a busy worker
    would have left the message waiting in the queue. While the queue holds messages
    the jobs may be waiting behind them, so they are left alone (re-sending would
    only grow the backlog).
    """
    sent_before = now - timedelta(seconds=settings.TAGLOOP_DISPATCH_GRACE_SECONDS)
    waiting = list(
        unfinished.filter(status=JobStatus.PENDING, dispatched_at__lt=sent_before).values_list("pk", flat=True)
    )
    if not waiting:
        return []
    queued = selectors.broker_queue_length()
    return waiting if queued == 0 else []


def _sweep_missing_predictions(now) -> int:
    """Items without the active model's prediction that no unfinished job will predict; returns how many."""
    active = selectors.active_model_version()
    if active is None:
        return 0
    if Job.objects.filter(
        model_version=active, kind=JobKind.PREDICT, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
    ).exists():
        return 0  # the unfinished jobs are reconciled above; this net is for items no job holds
    grace = now - timedelta(seconds=settings.TAGLOOP_DISPATCH_GRACE_SECONDS)
    missing = selectors.content_ids_lacking_active_prediction(model_version=active, ingested_before=grace)
    if missing:
        logger.warning(
            "reconciler: %s item(s) lack v%s's prediction and no job holds them; predicting them",
            len(missing),
            active.number,
        )
        jobs_create_predict(model_version=active, content_ids=missing)
    return len(missing)
