"""Emerging topics as /monitoring/ shows them (written by predictions.services.emerging)."""

from labeling.models import Content
from predictions.models import EmergingTopic, ModelEvent, ModelEventAction


def topic_items_sent_to_review(topic: EmergingTopic) -> int | None:
    """How many of a tagged topic's items went to review, as its audit event recorded (None: no event)."""
    event = (
        ModelEvent.objects.filter(action=ModelEventAction.TOPIC_TAGGED, details__topic=topic.pk)
        .order_by("-created_at")
        .first()
    )
    return None if event is None else int(event.details.get("to_review", 0))


def emerging_topics_for_page(*, examples: int = 5) -> list[dict]:
    """Open topics, then tagged ones, each with its first few items."""
    topics = list(
        EmergingTopic.objects.select_related("tag", "model_version", "tagged_by").order_by("status", "rank")[:20]
    )
    wanted = {content_id for topic in topics for content_id in topic.content_ids[:examples]}
    titles = dict(Content.objects.filter(pk__in=wanted).values_list("pk", "title"))
    return [
        {
            "topic": topic,
            "examples": [(cid, titles[cid]) for cid in topic.content_ids[:examples] if cid in titles],
        }
        for topic in topics
    ]
