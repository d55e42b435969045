"""Reads behind the REST API (labeling/api_*.py): the querysets its lists and details start from.

Filters (django-filter) narrow them; each list is paged by id, newest first.
"""

from django.db.models import Prefetch, QuerySet

from labeling.models import Annotation, Content, GoldLabel, ReviewReason, ReviewTask, Tag, WrongTagReport
from labeling.services import review_reasons_withheld_from


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


def review_tasks_for_api(*, user) -> QuerySet[ReviewTask]:
    """Every task of the reasons ``user``'s role may work (disagreements are for reviewers)."""
    return (
        ReviewTask.objects.select_related("content", "assignee")
        .exclude(reason__in=review_reasons_withheld_from(user))
        .order_by("-id")
    )


def reports_for_api() -> QuerySet[WrongTagReport]:
    return WrongTagReport.objects.select_related("shown_tag", "suggested_tag")


def is_blind(task: ReviewTask) -> bool:
    """Audit samples are answered without the model's hint, in the API as on the page."""
    return task.reason == ReviewReason.AUDIT_SAMPLE
