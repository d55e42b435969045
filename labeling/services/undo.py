"""Undo an annotator's last answer, within a short window, exactly as it was before."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from labeling.models import Annotation, Content, GoldLabel, ReportStatus, ReviewStatus, ReviewTask, WrongTagReport
from labeling.selectors import undoable_answers
from labeling.services.review import ReviewConflict


@transaction.atomic
def review_answer_undo(*, user) -> ReviewTask:
    """Take back ``user``'s last answer; returns its task, open again and leased to them."""
    annotation = undoable_answers(user=user).select_for_update().first()
    if annotation is None or not annotation.undo_state:
        raise ReviewConflict(
            f"Nothing to undo: no answer of yours in the last {settings.TAGLOOP_UNDO_SECONDS} seconds."
        )
    later = Annotation.objects.filter(
        content_id=annotation.content_id, undone_at__isnull=True, created_at__gt=annotation.created_at
    ).exclude(pk=annotation.pk)
    if later.exists():
        raise ReviewConflict("Someone answered this item after you; your answer can no longer be undone.")
    state = annotation.undo_state
    if _reopening_would_duplicate(annotation.content_id, state):
        raise ReviewConflict(
            "A new report or task on this item arrived after your answer; your answer can no longer be undone."
        )
    _restore_gold(annotation.content_id, state["gold"])
    Content.objects.filter(pk=annotation.content_id).update(**state["content"])
    ReviewTask.objects.filter(pk__in=state["task_ids"]).update(
        status=ReviewStatus.OPEN, resolved_at=None, resolved_by=None, assignee=None, lease_expires_at=None
    )
    ReviewTask.objects.filter(pk__in=state.get("opened_task_ids", []), status=ReviewStatus.OPEN).update(
        status=ReviewStatus.CANCELLED, resolved_at=timezone.now()
    )
    WrongTagReport.objects.filter(pk__in=state["report_ids"]).update(
        status=ReportStatus.OPEN, resolution="", resolved_by=None, resolved_at=None
    )
    annotation.undone_at = timezone.now()
    annotation.save(update_fields=["undone_at"])
    task = ReviewTask.objects.get(pk=annotation.review_task_id)
    task.assignee = user
    task.lease_expires_at = timezone.now() + timedelta(seconds=settings.TAGLOOP_REVIEW_LEASE_SECONDS)
    task.save(update_fields=["assignee", "lease_expires_at"])
    return task


def _reopening_would_duplicate(content_id: int, state: dict) -> bool:
    """Whether an open task or report taken since the answer would clash with the ones undo reopens.

    The database allows one open task per item and reason, and one open report per
    reporter and item; a reporter may have reported again after the answer closed theirs.
    """
    tasks = ReviewTask.objects.filter(pk__in=state["task_ids"])
    newer_tasks = ReviewTask.objects.filter(
        content_id=content_id, status=ReviewStatus.OPEN, reason__in=tasks.values("reason")
    ).exclude(pk__in=[*state["task_ids"], *state.get("opened_task_ids", [])])
    reports = WrongTagReport.objects.filter(pk__in=state["report_ids"])
    open_reports = WrongTagReport.objects.filter(content_id=content_id, status=ReportStatus.OPEN).exclude(
        pk__in=state["report_ids"]
    )
    newer_reports = open_reports.filter(reporter__in=reports.exclude(reporter=None).values("reporter")) | (
        open_reports.filter(reporter=None, reporter_hash__in=reports.filter(reporter=None).values("reporter_hash"))
    )
    return newer_tasks.exists() or newer_reports.exists()


def _restore_gold(content_id: int, previous: dict | None) -> None:
    if previous is None:
        GoldLabel.objects.filter(content_id=content_id).delete()
        return
    GoldLabel.objects.filter(content_id=content_id).update(
        tag_id=previous["tag_id"],
        provenance=previous["provenance"],
        version=previous["version"],
        decided_by_id=previous["decided_by_id"],
        decided_at=datetime.fromisoformat(previous["decided_at"]),
        split=previous["split"],
    )
