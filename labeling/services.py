"""Writes of the human side. Keyword-only functions, each in one transaction."""
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from labeling.importing import ContentRow, RowError
from labeling.models import (
    Annotation,
    Content,
    GoldLabel,
    Provenance,
    ReportStatus,
    ReviewReason,
    ReviewStatus,
    ReviewTask,
    Split,
    Tag,
    TagOrigin,
    WrongTagReport,
)
from labeling.signals import content_ingested

BATCH_SIZE = 1000
# Priorities order the queue: reports first, then low confidence (most uncertain
# first: the active-learning order), then audit samples.
PRIORITY_BASE = {
    ReviewReason.REPORT: 3.0,
    ReviewReason.DISAGREEMENT: 2.5,
    ReviewReason.LOW_CONFIDENCE: 2.0,
    ReviewReason.OUT_OF_DISTRIBUTION: 2.0,
    ReviewReason.SUSPECT_LABEL: 1.5,
    ReviewReason.AUDIT_SAMPLE: 1.0,
}


class ReviewConflict(Exception):
    """An answer arrived for a task this annotator no longer holds."""


def text_hash(title: str, description: str) -> str:
    normalised = " ".join(f"{title}\n{description}".lower().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


# --- import --------------------------------------------------------------------


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    labelled: int = 0
    errors: list[RowError] = field(default_factory=list)
    content_ids: list[int] = field(default_factory=list)

    def as_line(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {self.rejected} (gold labels added or changed: {self.labelled})"
        )


@transaction.atomic
def content_import(*, rows: list[ContentRow], source: str, errors: list[RowError] = ()) -> ImportSummary:
    """Create or update content and imported gold labels; idempotent for the same rows.

    A re-import never overwrites a label that a human decided (annotator or report).
    """
    summary = ImportSummary(rejected=len(errors), errors=list(errors))
    tags = {tag.slug: tag for tag in Tag.objects.all()}
    existing = _existing_content(source, [row.external_id for row in rows])
    to_create, to_update, changed_ids = [], [], []
    for row in rows:
        content = existing.get(row.external_id)
        if content is None:
            to_create.append(_new_content(row, source))
        elif _apply_row(content, row):
            to_update.append(content)
        else:
            summary.unchanged += 1
    Content.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Content.objects.bulk_update(
        to_update, ["title", "description", "created_on", "text_hash"], batch_size=BATCH_SIZE
    )
    summary.created, summary.updated = len(to_create), len(to_update)
    changed_ids = [content.pk for content in (*to_create, *to_update)]
    by_external_id = {**existing, **{content.external_id: content for content in to_create}}
    labelled = [(by_external_id[row.external_id], tags[row.tag]) for row in rows if row.tag]
    summary.labelled = _import_gold_labels(labelled)
    summary.content_ids = changed_ids
    if changed_ids:
        content_ingested.send(sender=Content, content_ids=changed_ids)
    return summary


def _existing_content(source: str, external_ids: list[str]) -> dict[str, Content]:
    found = {}
    for start in range(0, len(external_ids), BATCH_SIZE):
        chunk = external_ids[start : start + BATCH_SIZE]
        for content in Content.objects.filter(source=source, external_id__in=chunk):
            found[content.external_id] = content
    return found


def _new_content(row: ContentRow, source: str) -> Content:
    return Content(
        source=source,
        external_id=row.external_id,
        title=row.title,
        description=row.description,
        created_on=row.created_on,
        text_hash=text_hash(row.title, row.description),
    )


def _apply_row(content: Content, row: ContentRow) -> bool:
    new = {"title": row.title, "description": row.description, "created_on": row.created_on}
    if all(getattr(content, name) == value for name, value in new.items()):
        return False
    for name, value in new.items():
        setattr(content, name, value)
    content.text_hash = text_hash(row.title, row.description)
    return True


def _import_gold_labels(labelled: list[tuple[Content, Tag]]) -> int:
    gold = {
        label.content_id: label
        for label in GoldLabel.objects.filter(content__in=[content for content, _ in labelled])
    }
    new, changed = [], []
    for content, tag in labelled:
        label = gold.get(content.pk)
        if label is None:
            new.append((content, tag))
        elif label.provenance == Provenance.IMPORTED and label.tag_id != tag.pk:
            label.tag, label.version, label.decided_at = tag, label.version + 1, timezone.now()
            changed.append(label)
    splits = assign_splits(new)
    created = [
        GoldLabel(content=content, tag=tag, provenance=Provenance.IMPORTED, split=splits[content.pk])
        for content, tag in new
    ]
    GoldLabel.objects.bulk_create(created, batch_size=BATCH_SIZE)
    GoldLabel.objects.bulk_update(changed, ["tag", "version", "decided_at"], batch_size=BATCH_SIZE)
    _show_gold_tags([(label.content_id, label.tag_id) for label in (*created, *changed)])
    return len(created) + len(changed)


def _show_gold_tags(pairs: list[tuple[int, int]]) -> None:
    by_tag = defaultdict(list)
    for content_id, tag_id in pairs:
        by_tag[tag_id].append(content_id)
    for tag_id, content_ids in by_tag.items():
        for start in range(0, len(content_ids), BATCH_SIZE):
            Content.objects.filter(pk__in=content_ids[start : start + BATCH_SIZE]).update(
                current_tag_id=tag_id, current_tag_origin=TagOrigin.GOLD, current_tag_confidence=None
            )


# --- splits --------------------------------------------------------------------


def assign_splits(labelled: list[tuple[Content, Tag]]) -> dict[int, str]:
    """Assign new gold labels to train or holdout, once, stratified by tag.

    Within each tag the items are taken in the order of a hash of their identity, and
    an item goes to the holdout while the tag's holdout share (counting the labels
    already assigned) is below the target. Deterministic: the same items get the same
    splits on every machine.
    """
    share = settings.TAGLOOP_HOLDOUT_SHARE
    by_tag = defaultdict(list)
    for content, tag in labelled:
        by_tag[tag.pk].append(content)
    splits = {}
    for tag_id, contents in by_tag.items():
        counts = GoldLabel.objects.filter(tag_id=tag_id).values_list("split", flat=True)
        holdout = sum(1 for split in counts if split == Split.HOLDOUT)
        total = len(counts)
        for content in sorted(contents, key=_split_key):
            total += 1
            if holdout < round(share * total):
                splits[content.pk] = Split.HOLDOUT
                holdout += 1
            else:
                splits[content.pk] = Split.TRAIN
    return splits


def _split_key(content: Content) -> str:
    return hashlib.sha256(f"{content.source}\x00{content.external_id}".encode()).hexdigest()


# --- gold labels -----------------------------------------------------------------


def gold_label_set(*, content: Content, tag: Tag, provenance: str, decided_by=None, reason: str = "") -> GoldLabel:
    """Create or change the gold label of ``content`` and show it on public pages.

    A label created from the review queue goes to the training split unless the item
    was a random audit sample: items picked for being uncertain or reported are not a
    fair sample of the stream, so they must not enter the holdout.
    """
    now = timezone.now()
    label = GoldLabel.objects.select_for_update().filter(content=content).first()
    if label is None:
        if reason == ReviewReason.AUDIT_SAMPLE:
            split = assign_splits([(content, tag)])[content.pk]
        else:
            split = Split.TRAIN
        label = GoldLabel.objects.create(
            content=content, tag=tag, provenance=provenance, decided_by=decided_by,
            decided_at=now, split=split,
        )
    elif label.tag_id != tag.pk or label.provenance != provenance:
        label.version += 1 if label.tag_id != tag.pk else 0
        label.tag, label.provenance, label.decided_by, label.decided_at = tag, provenance, decided_by, now
        label.save(update_fields=["tag", "provenance", "decided_by", "decided_at", "version"])
    _show_gold_tags([(content.pk, tag.pk)])
    return label


# --- model output shown on pages ----------------------------------------------------


@dataclass(frozen=True)
class ModelTag:
    content_id: int
    tag_id: int
    confidence: float
    model_version: int
    probabilities: dict


def content_show_model_tags(*, model_tags: list[ModelTag]) -> int:
    """Show model tags on content that has no gold label; returns how many changed."""
    gold_ids = set(
        GoldLabel.objects.filter(content_id__in=[item.content_id for item in model_tags]).values_list(
            "content_id", flat=True
        )
    )
    contents = []
    for item in model_tags:
        if item.content_id in gold_ids:
            continue
        contents.append(
            Content(
                pk=item.content_id,
                current_tag_id=item.tag_id,
                current_tag_origin=TagOrigin.MODEL,
                current_tag_confidence=item.confidence,
                current_model_version=item.model_version,
                current_probabilities=item.probabilities,
            )
        )
    Content.objects.bulk_update(
        contents,
        [
            "current_tag",
            "current_tag_origin",
            "current_tag_confidence",
            "current_model_version",
            "current_probabilities",
        ],
        batch_size=BATCH_SIZE,
    )
    return len(contents)


# --- review tasks -------------------------------------------------------------------


@dataclass(frozen=True)
class PredictionSnapshot:
    model_version: int | None = None
    predicted_tag: str = ""
    probabilities: dict = field(default_factory=dict)
    confidence: float | None = None


def review_task_open(*, content: Content, reason: str, snapshot: PredictionSnapshot = PredictionSnapshot()) -> ReviewTask:
    """Open a review task, or return the open one for the same item and reason."""
    priority = PRIORITY_BASE[reason]
    if snapshot.confidence is not None:
        # Less confident first within a reason.
        priority += 1.0 - snapshot.confidence
    with transaction.atomic():
        task = (
            ReviewTask.objects.select_for_update()
            .filter(content=content, reason=reason, status=ReviewStatus.OPEN)
            .first()
        )
        if task:
            return task
        return ReviewTask.objects.create(
            content=content,
            reason=reason,
            priority=priority,
            model_version=snapshot.model_version,
            predicted_tag=snapshot.predicted_tag,
            probabilities=snapshot.probabilities,
        )


def review_tasks_open_for_low_confidence(*, items: list[tuple[int, PredictionSnapshot]]) -> int:
    """Open low-confidence tasks for content with no gold label and no open task of that kind."""
    content_ids = [content_id for content_id, _ in items]
    skip = set(GoldLabel.objects.filter(content_id__in=content_ids).values_list("content_id", flat=True))
    skip |= set(
        ReviewTask.objects.filter(
            content_id__in=content_ids, reason=ReviewReason.LOW_CONFIDENCE, status=ReviewStatus.OPEN
        ).values_list("content_id", flat=True)
    )
    tasks = [
        ReviewTask(
            content_id=content_id,
            reason=ReviewReason.LOW_CONFIDENCE,
            priority=PRIORITY_BASE[ReviewReason.LOW_CONFIDENCE] + 1.0 - (snapshot.confidence or 0.0),
            model_version=snapshot.model_version,
            predicted_tag=snapshot.predicted_tag,
            probabilities=snapshot.probabilities,
        )
        for content_id, snapshot in items
        if content_id not in skip
    ]
    # ignore_conflicts: a concurrent worker may have opened the same task a moment ago;
    # the partial unique constraint keeps exactly one.
    ReviewTask.objects.bulk_create(tasks, batch_size=BATCH_SIZE, ignore_conflicts=True)
    return len(tasks)


def review_tasks_close_untouched(*, content_ids: list[int], reason: str) -> int:
    """Cancel open tasks of ``reason`` on these items that no person has touched yet.

    A task someone holds (an unexpired lease) or has answered before stays: a human's
    attention is never withdrawn under their feet.
    """
    now = timezone.now()
    return (
        ReviewTask.objects.filter(content_id__in=content_ids, reason=reason, status=ReviewStatus.OPEN)
        .filter(Q(assignee__isnull=True) | Q(lease_expires_at__lte=now))
        .exclude(annotations__isnull=False)
        .update(status=ReviewStatus.CANCELLED, resolved_at=now, assignee=None, lease_expires_at=None)
    )


def review_task_next(*, user, exclude_ids: tuple[int, ...] = ()) -> ReviewTask | None:
    """Lease the next task to ``user``: the one they already hold, or the top free one.

    ``skip_locked`` lets two annotators ask at the same moment without waiting for or
    receiving the same row (PostgreSQL; SQLite serialises writers instead).
    """
    now = timezone.now()
    with transaction.atomic():
        held = (
            ReviewTask.objects.select_for_update()
            .filter(status=ReviewStatus.OPEN, assignee=user, lease_expires_at__gt=now)
            .order_by("-priority", "created_at")
            .first()
        )
        if held:
            return held
        task = (
            ReviewTask.objects.select_for_update(skip_locked=True)
            .filter(status=ReviewStatus.OPEN)
            .filter(Q(assignee__isnull=True) | Q(lease_expires_at__lte=now))
            .exclude(pk__in=exclude_ids)
            .order_by("-priority", "created_at")
            .first()
        )
        if task is None:
            return None
        task.assignee = user
        task.lease_expires_at = now + timedelta(seconds=settings.TAGLOOP_REVIEW_LEASE_SECONDS)
        task.save(update_fields=["assignee", "lease_expires_at"])
        return task


def _check_lease(task: ReviewTask, user) -> None:
    if task.status != ReviewStatus.OPEN:
        raise ReviewConflict("This item was already answered; your answer was not recorded.")
    expired = task.lease_expires_at is None or task.lease_expires_at <= timezone.now()
    if task.assignee_id != user.pk and not (task.assignee_id is None or expired):
        raise ReviewConflict(
            "Another annotator holds this item now (your lease expired); your answer was not recorded."
        )


@transaction.atomic
def review_task_answer(*, task_id: int, user, tag: Tag, note: str = "") -> GoldLabel:
    """Record ``user``'s tag for the task's content; it becomes the gold label.

    The answer settles every open task of that content, and accepts or rejects the
    open wrong-tag reports on it: a tag different from the one shown accepts them.
    """
    task = ReviewTask.objects.select_for_update().select_related("content").get(pk=task_id)
    _check_lease(task, user)
    content = Content.objects.select_for_update().get(pk=task.content_id)
    now = timezone.now()
    Annotation.objects.create(content=content, review_task=task, annotator=user, tag=tag)
    open_tasks = list(
        ReviewTask.objects.select_for_update().filter(content=content, status=ReviewStatus.OPEN)
    )
    reports = list(
        WrongTagReport.objects.select_for_update().filter(content=content, status=ReportStatus.OPEN)
    )
    shown_tag_id = content.current_tag_id
    if reports and tag.pk != shown_tag_id:
        provenance = Provenance.REPORT
    else:
        provenance = Provenance.ANNOTATOR
    label = gold_label_set(content=content, tag=tag, provenance=provenance, decided_by=user, reason=task.reason)
    for open_task in open_tasks:
        open_task.status, open_task.resolved_at, open_task.resolved_by = ReviewStatus.DONE, now, user
    ReviewTask.objects.bulk_update(open_tasks, ["status", "resolved_at", "resolved_by"])
    _resolve_reports(reports, accepted=tag.pk != shown_tag_id, tag=tag, user=user, now=now, note=note)
    return label


def _resolve_reports(reports, *, accepted: bool, tag: Tag, user, now, note: str = "") -> None:
    for report in reports:
        report.status = ReportStatus.ACCEPTED if accepted else ReportStatus.REJECTED
        report.resolution = (
            f"Corrected to {tag.slug}." if accepted else f"Reviewed: {tag.slug} is right; tag kept."
        )
        if note.strip():
            report.resolution += f" Note from the reviewer: {note.strip()[:1000]}"
        report.resolved_by, report.resolved_at = user, now
    WrongTagReport.objects.bulk_update(reports, ["status", "resolution", "resolved_by", "resolved_at"])


@transaction.atomic
def review_task_skip(*, task_id: int, user) -> None:
    """Give the task back to the queue, where it keeps its place, without an answer."""
    task = ReviewTask.objects.select_for_update().get(pk=task_id)
    _check_lease(task, user)
    task.assignee, task.lease_expires_at = None, None
    task.save(update_fields=["assignee", "lease_expires_at"])


# --- wrong-tag reports ----------------------------------------------------------------


def client_address(request) -> str:
    """The client's address as this server sees it (behind a proxy, configure it to set REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR", "")


def reporter_hash(client_address: str) -> str:
    salted = f"{settings.TAGLOOP_REPORTER_SALT}\x00{client_address}"
    return hashlib.sha256(salted.encode()).hexdigest()


@transaction.atomic
def report_create(
    *, content: Content, reporter=None, reporter_address: str = "", suggested_tag: Tag | None = None, comment: str = ""
) -> tuple[WrongTagReport, bool]:
    """File a wrong-tag report and put the item in the review queue.

    One open report per reporter and item: a repeat updates the first (returns created=False).
    """
    identity = {"reporter": reporter} if reporter else {"reporter_hash": reporter_hash(reporter_address)}
    report = (
        WrongTagReport.objects.select_for_update()
        .filter(content=content, status=ReportStatus.OPEN, **identity)
        .first()
    )
    created = report is None
    if created:
        snapshot = PredictionSnapshot(
            model_version=content.current_model_version,
            predicted_tag=content.current_tag.slug if content.current_tag_id else "",
            probabilities=content.current_probabilities,
        )
        task = review_task_open(content=content, reason=ReviewReason.REPORT, snapshot=snapshot)
        report = WrongTagReport(
            content=content,
            shown_tag_id=content.current_tag_id,
            shown_model_version=content.current_model_version,
            review_task=task,
            **identity,
        )
    if suggested_tag is not None:
        report.suggested_tag = suggested_tag
    if comment:
        report.comment = comment.strip()[:2000]
    report.save()
    return report, created
