"""Content as the public sees it: identity, text hash, and the tag shown (gold or model)."""

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from common.bulk_update import BATCH_SIZE, takes_sql_conditions, update_by_pk  # BATCH_SIZE: for every bulk write here
from labeling.models import Content, GoldLabel, TagOrigin


def text_hash(title: str, description: str) -> str:
    normalised = " ".join(f"{title}\n{description}".lower().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def show_gold_tags(pairs: list[tuple[int, int]]) -> None:
    by_tag = defaultdict(list)
    for content_id, tag_id in pairs:
        by_tag[tag_id].append(content_id)
    for tag_id, content_ids in by_tag.items():
        for start in range(0, len(content_ids), BATCH_SIZE):
            Content.objects.filter(pk__in=content_ids[start : start + BATCH_SIZE]).update(
                current_tag_id=tag_id, current_tag_origin=TagOrigin.GOLD, current_tag_confidence=None
            )


@dataclass(frozen=True)
class ModelTag:
    content_id: int
    tag_id: int
    confidence: float
    model_version: int
    probabilities: dict


MODEL_TAG_FIELDS = (
    "current_tag_id",
    "current_tag_origin",
    "current_tag_confidence",
    "current_model_version",
    "current_probabilities",
)


def content_show_model_tags(*, model_tags: list[ModelTag]) -> int:
    """Show model tags on content that has no gold label; returns how many changed.

    Items flagged out of distribution (and not dismissed as a false alarm) show no model tag.
    """
    if takes_sql_conditions():
        # The rule in the statement itself: no reads of the items first. A row already showing this answer (a
        # chunk run again) is not rewritten: each rewrite of a content row is a new version of a wide row.
        return update_by_pk(
            Content,
            [_shown(item) for item in model_tags],
            list(MODEL_TAG_FIELDS),
            only_if=_MAY_SHOW,
            only_changed=True,
        )
    content_ids = [item.content_id for item in model_tags]
    gold_ids = set(GoldLabel.objects.filter(content_id__in=content_ids).values_list("content_id", flat=True))
    gold_ids |= set(
        Content.objects.filter(pk__in=content_ids, is_out_of_distribution=True, ood_dismissed=False).values_list(
            "pk", flat=True
        )
    )
    shown = [_shown(item) for item in model_tags if item.content_id not in gold_ids]
    return update_by_pk(Content, shown, list(MODEL_TAG_FIELDS))


# The rule above, on the row being updated: no gold label, and no out-of-distribution flag in force.
_MAY_SHOW = (
    "NOT EXISTS (SELECT 1 FROM labeling_goldlabel AS gold WHERE gold.content_id = old.id)"
    " AND NOT (old.is_out_of_distribution AND NOT old.ood_dismissed)"
)


def _shown(item: ModelTag) -> dict:
    return {
        "pk": item.content_id,
        "current_tag_id": item.tag_id,
        "current_tag_origin": TagOrigin.MODEL.value,
        "current_tag_confidence": item.confidence,
        "current_model_version": item.model_version,
        "current_probabilities": item.probabilities,
    }
