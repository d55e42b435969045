"""Reads of the human side."""

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from labeling.models import Annotation, Content, GoldLabel, ReviewReason, ReviewStatus, ReviewTask, Tag, WrongTagReport


def tag_slugs() -> set[str]:
    return set(Tag.objects.filter(is_active=True).values_list("slug", flat=True))


def tag_slugs_in_order() -> list[str]:
    """Every tag, in screen order: the label names of an export that numbers its labels."""
    return list(Tag.objects.values_list("slug", flat=True))


def active_tags() -> list[Tag]:
    return list(Tag.objects.filter(is_active=True))


def content_public_list():
    # Current tag is on the row: the public list needs no join with predictions.
    return Content.objects.select_related("current_tag").order_by("-created_on", "-pk")


def open_review_tasks(*, reason: str = "", tag: str = "", source: str = ""):
    """Open tasks, narrowed by the queue's filters (empty means any)."""
    tasks = ReviewTask.objects.filter(status=ReviewStatus.OPEN)
    if reason:
        tasks = tasks.filter(reason=reason)
    if tag:
        tasks = tasks.filter(predicted_tag=tag)
    if source:
        tasks = tasks.filter(content__source=source)
    return tasks


def review_queue_counts(**filters) -> dict[str, int]:
    rows = open_review_tasks(**filters).values("reason").annotate(n=Count("pk")).order_by("reason")
    return {row["reason"]: row["n"] for row in rows}


def undoable_answers(*, user):
    """``user``'s answers they may still take back, newest first (the undo window is short)."""
    since = timezone.now() - timedelta(seconds=settings.TAGLOOP_UNDO_SECONDS)
    return Annotation.objects.filter(
        annotator=user, undone_at__isnull=True, created_at__gte=since, review_task__isnull=False
    ).order_by("-created_at", "-pk")


def review_task_for_page(*, task_id: int) -> ReviewTask:
    return ReviewTask.objects.select_related("content", "content__current_tag", "assignee").get(pk=task_id)


def gold_tag_slug(*, content_id: int) -> str | None:
    return GoldLabel.objects.filter(content_id=content_id).values_list("tag__slug", flat=True).first()


def open_reports_of(*, task: ReviewTask) -> list[WrongTagReport]:
    return list(
        WrongTagReport.objects.filter(content_id=task.content_id, status="open").select_related("suggested_tag")
    )


def gold_labels(*, q: str = "", tag: str = "", provenance: str = "", split: str = ""):
    """Gold labels for the browse page and the export, newest decisions first."""
    labels = GoldLabel.objects.select_related("content", "tag", "decided_by").order_by("-decided_at", "-pk")
    if q:
        labels = labels.filter(Q(content__title__icontains=q) | Q(content__description__icontains=q))
    if tag:
        labels = labels.filter(tag__slug=tag)
    if provenance:
        labels = labels.filter(provenance=provenance)
    if split:
        labels = labels.filter(split=split)
    return labels


def gold_export_rows(labels) -> Iterator[dict]:
    """Rows in the import's columns, read in chunks so a large export keeps memory flat."""
    for label in labels.iterator(chunk_size=2000):
        content = label.content
        yield {
            "id": content.external_id,
            "created_on": content.created_on.isoformat() if content.created_on else "",
            "title": content.title,
            "description": content.description,
            "tag": label.tag.slug,
            "source": content.source,
            "provenance": label.provenance,
            "split": label.split,
            "version": label.version,
            "decided_by": label.decided_by.username if label.decided_by else "",
            "decided_at": label.decided_at.isoformat(),
        }


def disagreeing_answers(*, task: ReviewTask) -> list[Annotation]:
    """For an adjudication: the blind answers that disagreed on this item."""
    if task.reason != ReviewReason.DISAGREEMENT:
        return []
    return list(
        Annotation.objects.filter(
            content_id=task.content_id, review_task__reason=ReviewReason.AUDIT_SAMPLE, undone_at__isnull=True
        ).select_related("annotator", "tag")
    )


def review_progress() -> dict:
    """Open tasks by reason, answers today, and the gold label mix, for the team dashboard."""
    today = timezone.now().date()
    return {
        "open_by_reason": review_queue_counts(),
        "done_today": ReviewTask.objects.filter(status=ReviewStatus.DONE, resolved_at__date=today).count(),
        "answers_today": Annotation.objects.filter(created_at__date=today, undone_at__isnull=True).count(),
        "gold_by_tag": dict(
            GoldLabel.objects.values_list("tag__slug")
            .annotate(n=Count("pk"))
            .order_by("tag__slug")
            .values_list("tag__slug", "n")
        ),
        "gold_by_provenance": dict(
            GoldLabel.objects.values_list("provenance")
            .annotate(n=Count("pk"))
            .order_by("provenance")
            .values_list("provenance", "n")
        ),
        "answers_by_day": list(
            Annotation.objects.filter(undone_at__isnull=True, created_at__date__gte=today - timedelta(days=13))
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("pk"))
            .order_by("day")
            .values_list("day", "n")
        ),
    }


# What /metrics counts of the human side (config/health.py writes the figures).


def content_counts_by_source() -> list[tuple[str, int]]:
    return list(Content.objects.values_list("source").annotate(n=Count("pk")).order_by("source"))


def out_of_distribution_count() -> int:
    """Items flagged out of distribution and not dismissed."""
    return Content.objects.filter(is_out_of_distribution=True, ood_dismissed=False).count()


def open_review_task_counts_by_reason() -> dict[str, int]:
    """Every reason, those with no open task at 0, in the order the reasons are defined."""
    open_tasks = dict(
        ReviewTask.objects.filter(status=ReviewStatus.OPEN)
        .values_list("reason")
        .annotate(n=Count("pk"))
        .values_list("reason", "n")
    )
    return {reason: open_tasks.get(reason, 0) for reason, _ in ReviewTask._meta.get_field("reason").choices}


def report_counts_by_status() -> dict[str, int]:
    """Every status (open, accepted, rejected), those with no report at 0."""
    reports = dict(WrongTagReport.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {status: reports.get(status, 0) for status in ("open", "accepted", "rejected")}
