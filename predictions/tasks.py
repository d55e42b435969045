"""Celery tasks: thin wrappers that take ids and call one service. Safe to run twice.

Every piece of work is a ``Job`` row first (predictions.services.jobs); a message only
says "job N is waiting". ``acks_late`` with ``reject_on_worker_lost`` puts the message
back when a pool process dies mid-task; the job's claim and heartbeat make the copy
harmless if the work is already done or still owned, and the reconciler takes over
what a dead worker held (a redelivery after the broker's visibility timeout can come
an hour late; the reconciler does not wait for it).
"""

from celery import shared_task
from django.conf import settings

from predictions import services
from predictions.services import jobs, leases, orphans, reconciler, trust


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def run_job(self, job_id: int) -> None:
    """Time limits are set per kind when the job is sent (jobs.TIME_LIMITS)."""
    jobs.job_run(job_id=job_id, worker=self.request.hostname or "")


@shared_task
def reconcile() -> None:
    """Periodic (celery beat): send again the work no live worker owns. One run per period, whatever the beats."""
    if leases.lease_take(name="reconcile", every_seconds=settings.TAGLOOP_RECONCILE_EVERY_SECONDS):
        reconciler.work_reconcile()


@shared_task
def auto_retrain() -> int | None:
    if not leases.lease_take(name="auto-retrain", every_seconds=settings.TAGLOOP_AUTO_RETRAIN_EVERY_SECONDS):
        return None
    version = services.auto_retrain_if_due()
    return version.number if version else None


@shared_task(acks_late=True, time_limit=900)
def check_drift() -> int:
    """Periodic (celery beat): store one drift check per window; once per period, whatever the beats."""
    if not leases.lease_take(name="check-drift", every_seconds=settings.TAGLOOP_DRIFT_EVERY_SECONDS):
        return 0
    checks = services.drift_checks_run()
    services.emerging_topics_refresh()  # the same period: clusters of unsure or flagged items
    return len(checks)


@shared_task
def trust_check() -> int:
    """Periodic (celery beat): judge each source's live precision, move thresholds; once per period."""
    if not leases.lease_take(name="trust-check", every_seconds=settings.TAGLOOP_TRUST_EVERY_SECONDS):
        return 0
    return sum(check.action in ("raise", "lower") for check in trust.trust_check())


@shared_task
def sweep_orphaned_predictions() -> int:
    """Periodic (celery beat): delete predictions whose item or version is gone; once per period."""
    if not leases.lease_take(name="orphaned-predictions", every_seconds=settings.TAGLOOP_ORPHAN_SWEEP_EVERY_SECONDS):
        return 0
    return orphans.predictions_orphaned_delete()
