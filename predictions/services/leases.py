"""Periodic duties run once per period, however many beat processes send the tick."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from predictions.models import Lease


def lease_take(*, name: str, every_seconds: float) -> bool:
    """True for the one caller that may run duty ``name`` now; False for everyone else.

    One conditional UPDATE decides: it moves ``last_run_at`` only when the last run is at
    least most of a period old, and the database lets only one writer match. Two beats
    ticking at the same moment (one per machine, say) therefore run the duty once. The
    bound is 80% of the period so that a tick that arrives a little early is not skipped.
    """
    now = timezone.now()
    due = Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - timedelta(seconds=every_seconds * 0.8))
    if Lease.objects.filter(due, name=name).update(last_run_at=now):
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, last_run_at=now)
        return True
    except IntegrityError:
        return False  # it exists and ran recently, or another process created it just now


def lease_last_run(*, name: str):
    """When duty ``name`` last ran (None: never)."""
    return Lease.objects.filter(name=name).values_list("last_run_at", flat=True).first()
