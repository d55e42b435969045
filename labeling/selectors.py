"""Reads of the human side."""

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from labeling.models import (
    Annotation,
    ApiToken,
    Content,
    ContentTagOrder,
    GoldLabel,
    ReviewQueueCount,
    ReviewReason,
    ReviewStatus,
    ReviewTask,
    Tag,
    WrongTagReport,
)


def tag_slugs() -> set[str]:
    return set(Tag.objects.filter(is_active=True).values_list("slug", flat=True))


def tag_slugs_in_order() -> list[str]:
    """Every tag, in screen order: the label names of an export that numbers its labels."""
    return list(Tag.objects.values_list("slug", flat=True))


def active_tags() -> list[Tag]:
    return list(Tag.objects.filter(is_active=True))


def tag_for_page(*, slug: str) -> Tag:
    """A tag and its guideline, for its public page (retired tags too: old items still link to them)."""
    return Tag.objects.get(slug=slug)


def _text_search(q: str) -> Q:
    """Titles or descriptions containing ``q``, whatever the case.

    Trigram indexes serve three characters or more. A shorter query scans the table; when it
    has no case (a two-character CJK word, say) the scan compares the text as it is, which
    costs a quarter of upper-casing every description on the way.
    """
    if len(q) < 3 and q.upper() == q.lower():
        return Q(title__contains=q) | Q(description__contains=q)
    return Q(title__icontains=q) | Q(description__icontains=q)


def tag_order_kept() -> bool:
    """Whether the database keeps ContentTagOrder (PostgreSQL's triggers, migration 0020)."""
    return connection.vendor == "postgresql"


def _tag_id(slug: str) -> Subquery:
    """The tag's id as a scalar subquery (NULL, so matching nothing, for no such tag): PostgreSQL computes it once
    and then walks ContentTagOrder's index from that tag, instead of joining every item to its tag."""
    return Subquery(Tag.objects.filter(slug=slug).order_by().values("pk"))


def content_public_list(*, q: str = "", tag: str = ""):
    """The public list, newest first, narrowed by a search in titles and descriptions and a tag.

    ``tag`` is a slug, or "untagged" for items with no tag yet. The current tag is on the
    row: the public list needs no join with predictions. On PostgreSQL trigram indexes
    serve the search (migration 0012), so it stays fast at 100,000 items; the order within
    a tag is ContentTagOrder's index (migration 0020): the items are read from it, by id.
    """
    items = Content.objects.select_related("current_tag")
    if q:
        items = items.filter(_text_search(q))
    if tag and tag_order_kept():
        # ContentTagOrder's created_on and content id are the item's own: the same order, walked in its index. Both
        # conditions in one filter() keep the join inner (the untagged one alone would make it a LEFT JOIN). The tag
        # leads the order (one value here, so no change of it): PostgreSQL takes "IS NULL" for no equality, and would
        # sort every untagged item instead of walking the index.
        shown = Q(tag_order__tag__isnull=True) if tag == "untagged" else Q(tag_order__tag=_tag_id(tag))
        return items.filter(shown, tag_order__content__isnull=False).order_by(
            "tag_order__tag_id", "-tag_order__created_on", "-tag_order__content"
        )
    if tag == "untagged":
        items = items.filter(current_tag__isnull=True)
    elif tag:
        items = items.filter(current_tag__slug=tag)
    return items.order_by("-created_on", "-pk")


def content_public_list_narrow(*, q: str = "", tag: str = "") -> QuerySet | None:
    """``content_public_list``'s rows as ContentTagOrder's, in its order (for a tag alone; None otherwise): its
    index alone counts them and finds a page's ids, where the list itself would read every item before the page."""
    if not (tag and tag_order_kept()) or q:
        return None
    rows = ContentTagOrder.objects.all()
    rows = rows.filter(tag__isnull=True) if tag == "untagged" else rows.filter(tag=_tag_id(tag))
    return rows.order_by("tag_id", "-created_on", "-content")


def content_count_by_shown_tag() -> dict[str | None, int]:
    """How many items show each tag (None: no tag), from the narrow table's index on PostgreSQL."""
    rows = ContentTagOrder.objects if tag_order_kept() else Content.objects
    field = "tag__slug" if tag_order_kept() else "current_tag__slug"
    return dict(rows.values_list(field).annotate(n=Count("pk")).values_list(field, "n"))


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


def review_counts_kept() -> bool:
    """Whether the database keeps the open-task counts (PostgreSQL's triggers, migration 0015)."""
    return connection.vendor == "postgresql"


def review_queue_counts(*, reason: str = "", tag: str = "", source: str = "") -> dict[str, int]:
    """Open tasks by reason under the queue's filters; reasons with none are left out.

    Exact, and a sum of a few rows at any queue size: the counts are kept by triggers in the
    transactions that change the tasks. SQLite counts the tasks themselves.
    """
    if not review_counts_kept():
        rows = open_review_tasks(reason=reason, tag=tag, source=source).values("reason").annotate(n=Count("pk"))
        return {row["reason"]: row["n"] for row in rows.order_by("reason")}
    counts = ReviewQueueCount.objects.all()
    if reason:
        counts = counts.filter(reason=reason)
    if tag:
        counts = counts.filter(predicted_tag=tag)
    if source:
        counts = counts.filter(source=source)
    rows = counts.values("reason").annotate(n=Sum("n")).order_by("reason")
    return {row["reason"]: int(row["n"]) for row in rows if row["n"]}


def undoable_answers(*, user: User):
    """``user``'s answers they may still take back, newest first (the undo window is short)."""
    since = timezone.now() - timedelta(seconds=settings.TAGLOOP_UNDO_SECONDS)
    return Annotation.objects.filter(
        annotator=user, undone_at__isnull=True, created_at__gte=since, review_task__isnull=False
    ).order_by("-created_at", "-pk")


def review_task_for_page(*, task_id: int) -> ReviewTask:
    return ReviewTask.objects.select_related("content", "content__current_tag", "assignee").get(pk=task_id)


def review_task_prediction(*, task_id: int) -> tuple[int | None, str, dict]:
    """The model version, predicted tag and probabilities a task holds now."""
    return ReviewTask.objects.values_list("model_version", "predicted_tag", "probabilities").get(pk=task_id)


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
    today = timezone.localdate()
    # Half-open ranges from local midnight rather than `__date` lookups, which convert every row's timestamp
    # to a date before comparing (no index on the column could ever serve them).
    midnight = timezone.make_aware(datetime.combine(today, time.min))
    return {
        "open_by_reason": review_queue_counts(),
        "done_today": ReviewTask.objects.filter(status=ReviewStatus.DONE, resolved_at__gte=midnight).count(),
        "answers_today": Annotation.objects.filter(created_at__gte=midnight, undone_at__isnull=True).count(),
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
            Annotation.objects.filter(undone_at__isnull=True, created_at__gte=midnight - timedelta(days=13))
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("pk"))
            .order_by("day")
            .values_list("day", "n")
        ),
    }


def gold_label_history(*, content_id: int) -> list[Annotation]:
    """Every answer given on an item, newest first: where its gold label came from."""
    return list(
        Annotation.objects.filter(content_id=content_id)
        .select_related("annotator", "tag", "review_task")
        .order_by("-created_at", "-pk")
    )


def answers_count(*, user, since) -> dict[str, int]:
    """``user``'s standing answers since ``since`` (their session) and today, in one query."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    # Bounded by the earlier of the two, so the index reads this session's and today's answers, not all ever given.
    recent = Annotation.objects.filter(annotator=user, undone_at__isnull=True, created_at__gte=min(since, today))
    return recent.aggregate(
        session=Count("pk", filter=Q(created_at__gte=since)), today=Count("pk", filter=Q(created_at__gte=today))
    )


def recent_answers(*, user, limit: int = 10) -> list[Annotation]:
    """``user``'s standing answers from the queue, newest first: the history list they can change from."""
    return list(
        Annotation.objects.filter(annotator=user, review_task__isnull=False, undone_at__isnull=True)
        .select_related("content", "tag")
        .order_by("-created_at", "-pk")[:limit]
    )


# What /metrics counts of the human side (config/health.py writes the figures).


def content_counts_by_source() -> list[tuple[str, int]]:
    return list(Content.objects.values_list("source").annotate(n=Count("pk")).order_by("source"))


def out_of_distribution_count() -> int:
    """Items flagged out of distribution and not dismissed."""
    return Content.objects.filter(is_out_of_distribution=True, ood_dismissed=False).count()


def open_review_task_counts_by_reason() -> dict[str, int]:
    """Every reason, those with no open task at 0, in the order the reasons are defined."""
    open_tasks = review_queue_counts()
    return {reason: open_tasks.get(reason, 0) for reason in ReviewReason.values}


def report_counts_by_status() -> dict[str, int]:
    """Every status (open, accepted, rejected), those with no report at 0."""
    reports = dict(WrongTagReport.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {status: reports.get(status, 0) for status in ("open", "accepted", "rejected")}


def api_tokens_of(*, user) -> list[ApiToken]:
    """``user``'s API tokens, active ones first, each group newest first."""
    newest_first = ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
    return sorted(newest_first, key=lambda token: token.revoked_at is not None)  # a stable sort


# The REST API's starting points (labeling/api/): filters narrow them, lists page them by id.


def tags_all() -> QuerySet[Tag]:
    # Retired tags too: old gold labels and reports still name them.
    return Tag.objects.all()


def content_for_api() -> QuerySet[Content]:
    return Content.objects.select_related("current_tag")


def content_with_history(*, user) -> QuerySet[Content]:
    """Content with its gold label and what happened to it: tasks, reports, answers.

    Audit answers are blind: someone who may not adjudicate sees only their own answers,
    so reading the API cannot tell them what another annotator said.
    """
    answers = Annotation.objects.select_related("annotator", "tag", "review_task").order_by("created_at", "pk")
    if not user.has_perm("labeling.adjudicate"):
        answers = answers.filter(annotator=user)
    return (
        content_for_api()
        .select_related("gold_label__tag", "gold_label__decided_by")
        .prefetch_related(
            Prefetch("review_tasks", ReviewTask.objects.order_by("created_at", "pk")),
            Prefetch("reports", WrongTagReport.objects.select_related("shown_tag", "suggested_tag").order_by("pk")),
            Prefetch("annotations", answers, to_attr="visible_answers"),
        )
    )


def gold_labels_for_api() -> QuerySet[GoldLabel]:
    return GoldLabel.objects.select_related("content", "tag", "decided_by")


def review_tasks_for_api(*, withheld_reasons: list[str]) -> QuerySet[ReviewTask]:
    """Every task but those of the reasons withheld from the role (disagreements are for reviewers)."""
    return ReviewTask.objects.select_related("content", "assignee").exclude(reason__in=withheld_reasons).order_by("-id")


def reports_for_api() -> QuerySet[WrongTagReport]:
    return WrongTagReport.objects.select_related("shown_tag", "suggested_tag")


def is_blind(task: ReviewTask) -> bool:
    """Audit samples are answered without the model's hint, in the API as on the page."""
    return task.reason == ReviewReason.AUDIT_SAMPLE
