"""Answers in the review queue: record one, settle the item (gold label, tasks, reports), or skip."""

from dataclasses import replace

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from common.errors import NotPermitted
from labeling.models import (
    Annotation,
    Content,
    GoldLabel,
    Provenance,
    ReportStatus,
    ReviewReason,
    ReviewStatus,
    ReviewTask,
    Tag,
    WrongTagReport,
)
from labeling.services.gold import gold_label_set
from labeling.services.review_queue import (
    PredictionSnapshot,
    ReviewConflict,
    review_task_allowed,
    review_task_open,
    without_own_reports,
)
from labeling.services.undo import UndoRecord
from webhooks.events import emit
from webhooks.models import Event


def _check_may_work(task: ReviewTask, user: User, *, not_done: str) -> None:
    """Refuse a task the role does not allow, then one that is closed or held by someone else."""
    if not review_task_allowed(task, user):
        raise NotPermitted("Only reviewers decide disagreements between annotators.")
    if task.status != ReviewStatus.OPEN:
        raise ReviewConflict(f"This item was already answered; {not_done}")
    expired = task.lease_expires_at is None or task.lease_expires_at <= timezone.now()
    if task.assignee_id != user.pk and not (task.assignee_id is None or expired):
        raise ReviewConflict(f"Another annotator is working on this item; {not_done}")


@transaction.atomic
def review_task_answer(*, task_id: int, user: User, tag: Tag, note: str = "") -> GoldLabel | None:
    """Record ``user``'s tag for the task's content; returns the gold label once it is decided.

    A task that needs one answer is settled at once. An audit sample waits for its
    required number of annotators, blind to each other; then the decision rule applies:
    unanimous answers become the gold label, disagreement goes to a reviewer.
    """
    task = ReviewTask.objects.select_for_update().select_related("content").get(pk=task_id)
    _check_may_work(task, user, not_done="your answer was not recorded.")
    if not without_own_reports(ReviewTask.objects.filter(pk=task.pk), user).exists():
        raise ReviewConflict("You reported this item yourself: someone else will settle the report.")
    content = Content.objects.select_for_update().get(pk=task.content_id)
    if task.required_answers <= 1:
        return _settle(task, content, user=user, tag=tag, note=note)
    if Annotation.objects.filter(review_task=task, annotator=user, undone_at__isnull=True).exists():
        raise ReviewConflict("You already answered this item; it is waiting for another annotator.")
    earlier = list(Annotation.objects.filter(review_task=task, undone_at__isnull=True).values_list("tag_id", flat=True))
    if len(earlier) + 1 < task.required_answers:
        _record_partial_answer(task, content, user=user, tag=tag)
        return None
    if all(tag_id == tag.pk for tag_id in earlier):
        return _settle(task, content, user=user, tag=tag, note=note)
    _send_to_adjudication(task, content, user=user, tag=tag)
    return None


def _settle(task: ReviewTask, content: Content, *, user: User, tag: Tag, note: str) -> GoldLabel:
    """The answer decides: gold label, every open task of the item closed, reports resolved.

    A tag different from the one shown accepts the open wrong-tag reports. What the
    answer changes is kept on the annotation, so the annotator can undo it.
    """
    now = timezone.now()
    open_tasks = list(ReviewTask.objects.select_for_update().filter(content=content, status=ReviewStatus.OPEN))
    reports = list(WrongTagReport.objects.select_for_update().filter(content=content, status=ReportStatus.OPEN))
    undo = UndoRecord.capture(content, open_tasks, reports)
    Annotation.objects.create(content=content, review_task=task, annotator=user, tag=tag, undo_state=undo.as_json())
    shown_tag_id = content.current_tag_id
    if reports and tag.pk != shown_tag_id:
        provenance = Provenance.REPORT
    else:
        provenance = Provenance.ANNOTATOR
    label = gold_label_set(content=content, tag=tag, provenance=provenance, decided_by=user, reason=task.reason)
    for open_task in open_tasks:
        open_task.status, open_task.resolved_at, open_task.resolved_by = ReviewStatus.DONE, now, user
    ReviewTask.objects.bulk_update(open_tasks, ["status", "resolved_at", "resolved_by"])
    reports_resolve(reports, accepted=tag.pk != shown_tag_id, tag=tag, user=user, now=now, note=note)
    return label


def _record_partial_answer(task: ReviewTask, content: Content, *, user: User, tag: Tag) -> None:
    """One of several blind answers: keep it and free the item for the next annotator."""
    undo = UndoRecord.capture(content, [task], [])
    Annotation.objects.create(content=content, review_task=task, annotator=user, tag=tag, undo_state=undo.as_json())
    task.assignee, task.lease_expires_at = None, None
    task.save(update_fields=["assignee", "lease_expires_at"])


def _send_to_adjudication(task: ReviewTask, content: Content, *, user: User, tag: Tag) -> None:
    """The annotators disagree: close the audit and open a task for a reviewer to decide."""
    now = timezone.now()
    undo = UndoRecord.capture(content, [task], [])
    disagreement = review_task_open(
        content=content,
        reason=ReviewReason.DISAGREEMENT,
        snapshot=PredictionSnapshot(task.model_version, task.predicted_tag, task.probabilities),
    )
    undo = replace(undo, opened_task_ids=[disagreement.pk])
    Annotation.objects.create(content=content, review_task=task, annotator=user, tag=tag, undo_state=undo.as_json())
    task.status, task.resolved_at, task.resolved_by = ReviewStatus.DONE, now, user
    task.assignee, task.lease_expires_at = None, None
    task.save(update_fields=["status", "resolved_at", "resolved_by", "assignee", "lease_expires_at"])


def reports_resolve(reports, *, accepted: bool, tag: Tag, user: User, now, note: str = "") -> None:
    """Close wrong-tag reports with a decision: accepted (the tag shown was wrong) or rejected; announced."""
    for report in reports:
        report.status = ReportStatus.ACCEPTED if accepted else ReportStatus.REJECTED
        report.resolution = f"Corrected to {tag.slug}." if accepted else f"Reviewed: {tag.slug} is right; tag kept."
        if note.strip():
            report.resolution += f" Note from the reviewer: {note.strip()[:1000]}"
        report.resolved_by, report.resolved_at = user, now
    WrongTagReport.objects.bulk_update(reports, ["status", "resolution", "resolved_by", "resolved_at"])
    for report in reports:
        emit(
            Event.REPORT_RESOLVED,
            {
                "report_id": report.pk,
                "content_id": report.content_id,
                "status": report.status,
                "suggested_tag": report.suggested_tag.slug if report.suggested_tag_id else None,
                "tag": tag.slug,
                "resolution": report.resolution,
                "resolved_by": user.get_username() if user else None,
                "resolved_at": now.isoformat(),
            },
        )


@transaction.atomic
def review_task_skip(*, task_id: int, user: User) -> None:
    """Give the task back to the queue, where it keeps its place, without an answer."""
    task = ReviewTask.objects.select_for_update().get(pk=task_id)
    _check_may_work(task, user, not_done="it was not skipped.")
    task.assignee, task.lease_expires_at = None, None
    task.save(update_fields=["assignee", "lease_expires_at"])
