"""Items the model's per-item checks call out of distribution: never auto-tagged, sent to a person."""

from collections.abc import Collection, Set

from labeling.models import Content, ReviewReason, TagOrigin
from labeling.services.content import BATCH_SIZE
from labeling.services.review_queue import PredictionSnapshot, review_tasks_close_untouched, review_tasks_open_many


def content_flag_out_of_distribution(
    *,
    flagged: list[tuple[int, dict, PredictionSnapshot]],
    cleared: Collection[int] = (),
    without_task: Set[int] = frozenset(),
) -> set[int]:
    """Record the checks' verdict on a chunk of items; returns the ids whose flag is in force.

    ``flagged``: (content id, {check name: reason}, the prediction's snapshot). They lose
    a model tag they may show and get an ``out_of_distribution`` review task (unless they
    have a gold label). Items an admin marked as a false alarm keep that decision.
    ``cleared``: items the checks now pass; their flag and untouched task go away.
    ``without_task``: flagged items that need no task of their own (e.g. audit samples,
    which people review anyway).
    """
    reasons = {content_id: why for content_id, why, _ in flagged}
    # Most chunks flag nothing: no statement is sent for an empty list (each cost a re-prediction chunk ~1 ms).
    contents = list(Content.objects.filter(pk__any=list(reasons), ood_dismissed=False)) if reasons else []
    for content in contents:
        content.is_out_of_distribution, content.ood_reasons = True, reasons[content.pk]
        if content.current_tag_origin == TagOrigin.MODEL:
            content.current_tag, content.current_tag_origin = None, TagOrigin.NONE
            content.current_tag_confidence, content.current_model_version = None, None
            content.current_probabilities = {}
    Content.objects.bulk_update(
        contents,
        [
            "is_out_of_distribution",
            "ood_reasons",
            "current_tag",
            "current_tag_origin",
            "current_tag_confidence",
            "current_model_version",
            "current_probabilities",
        ],
        batch_size=BATCH_SIZE,
    )
    in_force = {content.pk for content in contents}
    review_tasks_open_many(
        items=[
            (content_id, snapshot)
            for content_id, _, snapshot in flagged
            if content_id in in_force and content_id not in without_task
        ],
        reason=ReviewReason.OUT_OF_DISTRIBUTION,
    )
    if cleared:
        Content.objects.filter(pk__any=list(cleared), is_out_of_distribution=True, ood_dismissed=False).update(
            is_out_of_distribution=False, ood_reasons={}
        )
        review_tasks_close_untouched(content_ids=list(cleared), reason=ReviewReason.OUT_OF_DISTRIBUTION)
    return in_force


def content_dismiss_out_of_distribution(*, content_ids: list[int]) -> int:
    """An admin says "false alarm": the flag stops hiding the model tag (from the next
    prediction pass on) and the open task closes if nobody has touched it. Returns how many."""
    changed = Content.objects.filter(pk__in=content_ids, is_out_of_distribution=True, ood_dismissed=False).update(
        ood_dismissed=True
    )
    review_tasks_close_untouched(content_ids=list(content_ids), reason=ReviewReason.OUT_OF_DISTRIBUTION)
    return changed
