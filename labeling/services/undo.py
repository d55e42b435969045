"""Undo an annotator's last answer, within a short window, exactly as it was before."""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from labeling.models import Annotation, Content, GoldLabel, ReportStatus, ReviewStatus, ReviewTask, WrongTagReport
from labeling.selectors import undoable_answers
from labeling.services.review_queue import ReviewConflict

# The record an answer keeps on its Annotation (``undo_state``, JSON) so that undo can put back
# exactly what the answer changed. Written by the answering service (UndoRecord.capture), read
# here (UndoRecord.from_json): one definition of its fields instead of dict keys two files must agree on.
UNDO_RECORD_VERSION = 1


@dataclass(frozen=True)
class GoldBefore:
    """The item's gold label before the answer."""

    tag_id: int
    provenance: str
    version: int
    decided_by_id: int | None
    decided_at: datetime
    split: str


@dataclass(frozen=True)
class ContentBefore:
    """The item's shown tag before the answer."""

    current_tag_id: int | None
    current_tag_origin: str
    current_tag_confidence: float | None
    current_model_version: int | None


@dataclass(frozen=True)
class UndoRecord:
    gold: GoldBefore | None  # None: the item had no gold label, undo deletes the one the answer made
    content: ContentBefore
    task_ids: list[int]  # open tasks the answer closed: undo reopens them
    report_ids: list[int]  # open reports the answer resolved: undo reopens them
    opened_task_ids: list[int] = field(default_factory=list)  # tasks the answer opened: undo cancels them
    version: int = UNDO_RECORD_VERSION

    @classmethod
    def capture(cls, content: Content, open_tasks: list[ReviewTask], reports: list[WrongTagReport]) -> "UndoRecord":
        """What an answer about to change ``content`` must be able to put back."""
        gold = GoldLabel.objects.filter(content=content).first()
        return cls(
            gold=None
            if gold is None
            else GoldBefore(
                tag_id=gold.tag_id,
                provenance=gold.provenance,
                version=gold.version,
                decided_by_id=gold.decided_by_id,
                decided_at=gold.decided_at,
                split=gold.split,
            ),
            content=ContentBefore(
                current_tag_id=content.current_tag_id,
                current_tag_origin=content.current_tag_origin,
                current_tag_confidence=content.current_tag_confidence,
                current_model_version=content.current_model_version,
            ),
            task_ids=[task.pk for task in open_tasks],
            report_ids=[report.pk for report in reports],
        )

    def as_json(self) -> dict:
        data = asdict(self)
        if self.gold is not None:
            data["gold"]["decided_at"] = self.gold.decided_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> "UndoRecord":
        """Read a stored record; those written before records had a version (the same keys) read as version 1."""
        version = data.get("version", 1)
        if version != UNDO_RECORD_VERSION:
            raise ValueError(f"undo record version {version} is not known (this code reads {UNDO_RECORD_VERSION})")
        gold = data["gold"]
        return cls(
            gold=None
            if gold is None
            else GoldBefore(**{**gold, "decided_at": datetime.fromisoformat(gold["decided_at"])}),
            content=ContentBefore(**data["content"]),
            task_ids=list(data["task_ids"]),
            report_ids=list(data["report_ids"]),
            opened_task_ids=list(data.get("opened_task_ids", [])),
            version=version,
        )


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
    state = UndoRecord.from_json(annotation.undo_state)
    if _reopening_would_duplicate(annotation.content_id, state):
        raise ReviewConflict(
            "A new report or task on this item arrived after your answer; your answer can no longer be undone."
        )
    _restore_gold(annotation.content_id, state.gold)
    Content.objects.filter(pk=annotation.content_id).update(**asdict(state.content))
    ReviewTask.objects.filter(pk__in=state.task_ids).update(
        status=ReviewStatus.OPEN, resolved_at=None, resolved_by=None, assignee=None, lease_expires_at=None
    )
    ReviewTask.objects.filter(pk__in=state.opened_task_ids, status=ReviewStatus.OPEN).update(
        status=ReviewStatus.CANCELLED, resolved_at=timezone.now()
    )
    WrongTagReport.objects.filter(pk__in=state.report_ids).update(
        status=ReportStatus.OPEN, resolution="", resolved_by=None, resolved_at=None
    )
    annotation.undone_at = timezone.now()
    annotation.save(update_fields=["undone_at"])
    task = ReviewTask.objects.get(pk=annotation.review_task_id)
    task.assignee = user
    task.lease_expires_at = timezone.now() + timedelta(seconds=settings.TAGLOOP_REVIEW_LEASE_SECONDS)
    task.save(update_fields=["assignee", "lease_expires_at"])
    return task


def _reopening_would_duplicate(content_id: int, state: UndoRecord) -> bool:
    """Whether an open task or report taken since the answer would clash with the ones undo reopens.

    The database allows one open task per item and reason, and one open report per
    reporter and item; a reporter may have reported again after the answer closed theirs.
    """
    tasks = ReviewTask.objects.filter(pk__in=state.task_ids)
    newer_tasks = ReviewTask.objects.filter(
        content_id=content_id, status=ReviewStatus.OPEN, reason__in=tasks.values("reason")
    ).exclude(pk__in=[*state.task_ids, *state.opened_task_ids])
    reports = WrongTagReport.objects.filter(pk__in=state.report_ids)
    open_reports = WrongTagReport.objects.filter(content_id=content_id, status=ReportStatus.OPEN).exclude(
        pk__in=state.report_ids
    )
    newer_reports = open_reports.filter(reporter__in=reports.exclude(reporter=None).values("reporter")) | (
        open_reports.filter(reporter=None, reporter_hash__in=reports.filter(reporter=None).values("reporter_hash"))
    )
    return newer_tasks.exists() or newer_reports.exists()


def _restore_gold(content_id: int, previous: GoldBefore | None) -> None:
    if previous is None:
        GoldLabel.objects.filter(content_id=content_id).delete()
        return
    GoldLabel.objects.filter(content_id=content_id).update(**asdict(previous))
