"""Reads of the human side."""
from django.db.models import Count

from labeling.models import Content, ReviewStatus, ReviewTask, Tag, WrongTagReport


def tag_slugs() -> set[str]:
    return set(Tag.objects.filter(is_active=True).values_list("slug", flat=True))


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


def review_task_for_page(*, task_id: int) -> ReviewTask:
    return ReviewTask.objects.select_related("content", "content__current_tag", "assignee").get(pk=task_id)


def open_reports_of(*, task: ReviewTask) -> list[WrongTagReport]:
    return list(
        WrongTagReport.objects.filter(content_id=task.content_id, status="open").select_related("suggested_tag")
    )
