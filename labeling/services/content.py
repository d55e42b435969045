"""Content as the public sees it: identity, text hash, and the tag shown (gold or model)."""
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from labeling.models import Content, GoldLabel, TagOrigin

BATCH_SIZE = 1000


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


def content_show_model_tags(*, model_tags: list[ModelTag]) -> int:
    """Show model tags on content that has no gold label; returns how many changed.

    Items flagged out of distribution (and not dismissed as a false alarm) show no model tag.
    """
    content_ids = [item.content_id for item in model_tags]
    gold_ids = set(GoldLabel.objects.filter(content_id__in=content_ids).values_list("content_id", flat=True))
    gold_ids |= set(
        Content.objects.filter(pk__in=content_ids, is_out_of_distribution=True, ood_dismissed=False).values_list(
            "pk", flat=True
        )
    )
    shown = [item for item in model_tags if item.content_id not in gold_ids]
    if connection.vendor == "postgresql":
        return _update_shown_model_tags(shown)
    return _upsert_shown_model_tags(shown)


def _update_shown_model_tags(shown: list[ModelTag]) -> int:
    """One UPDATE ... FROM unnest(arrays) (PostgreSQL): five array parameters, whatever the chunk size.

    The ORM's ways cost more than the rest of a re-prediction chunk: bulk_update
    builds a CASE per field with a branch per row, and the portable upsert below
    reads every row whole (descriptions included) to write it back.
    """
    if not shown:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Content._meta.db_table} AS content SET
                current_tag_id = shown.tag_id, current_tag_origin = %s,
                current_tag_confidence = shown.confidence, current_model_version = shown.model_version,
                current_probabilities = shown.probabilities
            FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::integer[], %s::jsonb[])
                AS shown(id, tag_id, confidence, model_version, probabilities)
            WHERE content.id = shown.id
            """,
            [
                TagOrigin.MODEL.value,
                [item.content_id for item in shown],
                [item.tag_id for item in shown],
                [item.confidence for item in shown],
                [item.model_version for item in shown],
                [json.dumps(item.probabilities) for item in shown],
            ],
        )
        return cursor.rowcount


def _upsert_shown_model_tags(shown: list[ModelTag]) -> int:
    by_id = {item.content_id: item for item in shown}
    contents = list(Content.objects.filter(pk__in=list(by_id)))
    for content in contents:
        item = by_id[content.pk]
        content.current_tag_id = item.tag_id
        content.current_tag_origin = TagOrigin.MODEL
        content.current_tag_confidence = item.confidence
        content.current_model_version = item.model_version
        content.current_probabilities = item.probabilities
    # An upsert of whole rows, not bulk_update: bulk_update builds one CASE per field with a
    # branch per row, which costs seconds per 500-item chunk in Python and SQL alike; the
    # upsert is one plain INSERT ... ON CONFLICT (id) DO UPDATE of these columns.
    Content.objects.bulk_create(
        contents,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=[
            "current_tag",
            "current_tag_origin",
            "current_tag_confidence",
            "current_model_version",
            "current_probabilities",
        ],
    )
    return len(contents)
