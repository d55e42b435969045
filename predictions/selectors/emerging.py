"""Emerging topics as /monitoring/ shows them (written by predictions.services.emerging)."""

from labeling.models import Content
from predictions.models import EmergingTopic


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
