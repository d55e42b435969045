"""Emerging topics: clusters among the items the active model is unsure of, flags, or finds novel (ml.emerging).

Refreshed on a worker by the drift check's run (periodic, or the button on /monitoring/).
An admin turns a topic into a tag (``labeling.Tag`` is a row): its items go to the review
queue, the model audit trail records it (a ``topic_tagged`` ModelEvent), and the next retrain
learns the class from the answers.
"""

from typing import TYPE_CHECKING, NamedTuple

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from common.errors import ApplicationError
from labeling.models import Content, GoldLabel, ReviewReason, Split, Tag
from labeling.services.review_queue import PredictionSnapshot, review_tasks_open_many
from ml.text import prepare_text
from predictions import selectors
from predictions.models import (
    EmergingTopic,
    EmergingTopicStatus,
    ModelEvent,
    ModelEventAction,
    ModelVersion,
    Prediction,
)
from predictions.selectors.trust import acceptance_scores, thresholds_in_force
from predictions.services.embeddings_store import embeddings_prime

if TYPE_CHECKING:
    import numpy as np


class TopicNotTaggable(ApplicationError):
    """The topic was turned into a tag already, or the slug is taken."""

    code = "topic_not_taggable"


CANDIDATE_LIMIT = 2000  # the most recent unsure or flagged items; clustering is quadratic in them
# The newest unlabelled items whose meaning is compared with the training texts': each needs a vector, so a
# drift run encodes at most this many new texts (the rest come from the stored embeddings and the cache).
NOVELTY_SCAN = 500
# The newest predicted items scored per refresh for being unsure (the trust score reads each one's text).
SCORE_SCAN = 4 * CANDIDATE_LIMIT


def emerging_topics_refresh(*, now=None) -> list[EmergingTopic]:
    """Cluster the active model's unsure, flagged or novel items; replace the open topics with what is found."""
    from ml.emerging import find_clusters

    version = selectors.active_model_version()
    if version is None:
        return []
    labelled = selectors.gold_labelled(split=Split.TRAIN)
    training = [prepare_text(item.title, item.description) for item in labelled]
    training_vectors = _vectors(ids=[item.content_id for item in labelled], texts=training)
    candidates = _candidates(version)
    if training_vectors is not None:
        candidates += _novel(training_vectors, exclude={pk for pk, _, _ in candidates})
    texts = [prepare_text(title, description) for _, title, description in candidates]
    vectors = _vectors(ids=[pk for pk, _, _ in candidates], texts=texts) if training_vectors is not None else None
    clusters = find_clusters(
        texts,
        training,
        candidate_vectors=vectors,
        training_mean=training_vectors.mean(axis=0) if vectors is not None and training_vectors is not None else None,
    )
    now = now or timezone.now()
    with transaction.atomic():
        EmergingTopic.objects.filter(status=EmergingTopicStatus.OPEN).delete()
        return EmergingTopic.objects.bulk_create(
            EmergingTopic(
                created_at=now,
                model_version=version,
                rank=rank,
                top_terms=cluster.top_terms,
                content_ids=[candidates[i][0] for i in cluster.members],
                cohesion=round(cluster.cohesion, 4),
                candidates=len(candidates),
            )
            for rank, cluster in enumerate(clusters, start=1)
        )


class _Stored(NamedTuple):
    content_id: int


def _vectors(*, ids: list[int], texts: list[str]) -> "np.ndarray | None":
    """The items' MiniLM vectors (stored ones reused, see embeddings_store); None without MiniLM.

    With them the topics are found by meaning, without them by the words training lacks (ml.emerging).
    """
    from ml.catalogue import minilm_available
    from ml.minilm_backends import encoder_for, training_precision
    from ml.ood import default_encode

    if not texts or not minilm_available():
        return None
    precision = training_precision()
    embeddings_prime(contents=[_Stored(pk) for pk in ids], texts=texts, identity=encoder_for(precision).identity)
    return default_encode(texts, precision=precision)


def _novel(training_vectors: "np.ndarray", *, exclude: set[int]) -> list[tuple[int, str, str]]:
    """The newest unlabelled items the model may be sure of but whose meaning is far from training (ml.emerging)."""
    from ml.emerging import novel_by_meaning

    recent = [
        row
        for row in Content.objects.exclude(pk__in=GoldLabel.objects.values("content_id"))
        .order_by("-ingested_at", "-pk")
        .values_list("pk", "title", "description")[:NOVELTY_SCAN]
        if row[0] not in exclude
    ]
    vectors = _vectors(ids=[pk for pk, _, _ in recent], texts=[prepare_text(t, d) for _, t, d in recent])
    if vectors is None:
        return []
    return [row for row, novel in zip(recent, novel_by_meaning(training_vectors, vectors)) if novel]


def _candidates(version: ModelVersion) -> list[tuple[int, str, str]]:
    """(id, title, description) of the newest items, without a gold label, that the model is unsure of or flags.

    Unsure is what sends an item to review: its acceptance score (the trust score, or the confidence for a version
    without one) below its source's threshold in force. The stored threshold is on that score's scale, so comparing
    the bare confidence with it would count most confident items as unsure.
    """
    in_force = thresholds_in_force(version=version)
    predicted = list(
        Prediction.objects.filter(model_version=version, content__gold_label__isnull=True)
        .order_by("-content__ingested_at", "-content_id")
        .values_list(
            "content_id", "content__title", "content__description", "content__source", "tag__slug", "confidence"
        )[:SCORE_SCAN]
    )
    scores = acceptance_scores(
        version,
        texts=[prepare_text(title, description) for _, title, description, *_ in predicted],
        tags=[tag for *_, tag, _ in predicted],
        confidences=[confidence for *_, confidence in predicted],
    )
    unsure = {pk for (pk, _, _, source, _, _), score in zip(predicted, scores) if score < in_force.for_source(source)}
    return list(
        Content.objects.filter(Q(pk__in=unsure) | Q(is_out_of_distribution=True, ood_dismissed=False))
        .exclude(pk__in=GoldLabel.objects.values("content_id"))
        .order_by("-ingested_at", "-pk")
        .values_list("pk", "title", "description")[:CANDIDATE_LIMIT]
    )


def emerging_topic_to_tag(*, topic: EmergingTopic, slug: str, name: str, user) -> Tag:
    """Create the tag, send the topic's items to review and record it in the model audit trail.

    Once per topic (TopicNotTaggable otherwise).
    """
    with transaction.atomic():
        topic = EmergingTopic.objects.select_for_update().get(pk=topic.pk)
        if topic.status != EmergingTopicStatus.OPEN:
            raise TopicNotTaggable(f"this topic was already turned into the tag '{topic.tag}'", code="already_tagged")
        if Tag.objects.filter(slug=slug).exists():
            raise TopicNotTaggable(f"a tag '{slug}' exists already", code="tag_exists")
        version = _audit_version(topic)
        position = (Tag.objects.aggregate(top=Max("position"))["top"] or 0) + 1
        tag = Tag.objects.create(slug=slug, name=name, position=position)
        snapshots = _snapshots(topic)
        opened = review_tasks_open_many(
            items=[(content_id, snapshots.get(content_id, PredictionSnapshot())) for content_id in topic.content_ids],
            reason=ReviewReason.EMERGING_TOPIC,
        )
        topic.status, topic.tag, topic.tagged_by, topic.tagged_at = (
            EmergingTopicStatus.TAGGED,
            tag,
            user,
            timezone.now(),
        )
        topic.save(update_fields=["status", "tag", "tagged_by", "tagged_at"])
        _record(topic, version, opened=opened)
    return tag


def _audit_version(topic: EmergingTopic) -> ModelVersion:
    """The version the event belongs to: the one whose unsure items formed the topic, else the active one.

    An audit event needs a version; a topic has none only once its version was deleted, and then
    without an active model there is nothing to record it against, so the tag is refused.
    """
    version = topic.model_version or selectors.active_model_version()
    if version is None:
        raise TopicNotTaggable(
            "this topic's model version was deleted and no model is active: nothing to record the tag against",
            code="no_model_version",
        )
    return version


def _record(topic: EmergingTopic, version: ModelVersion, *, opened: int) -> None:
    """The audit trail's entry: who, when (the topic's tagged_at), the tag, the topic's terms and the items sent.

    ``items`` is the topic's size; ``to_review`` the review tasks opened (items with a gold label,
    or already queued as an emerging topic, are not queued again).
    """
    assert topic.tag is not None and topic.tagged_at is not None  # set by the caller just before
    ModelEvent.objects.create(
        action=ModelEventAction.TOPIC_TAGGED,
        model_version=version,
        actor=topic.tagged_by,
        created_at=topic.tagged_at,
        details={
            "topic": topic.pk,
            "rank": topic.rank,
            "tag": topic.tag.slug,
            "tag_name": topic.tag.name,
            "top_terms": topic.top_terms,
            "items": topic.size,
            "to_review": opened,
        },
    )


def _snapshots(topic: EmergingTopic) -> dict[int, PredictionSnapshot]:
    """What the topic's model said about each item, for the review screen."""
    rows = Prediction.objects.filter(model_version_id=topic.model_version_id, content_id__in=topic.content_ids)
    number = topic.model_version.number if topic.model_version else None
    return {
        row.content_id: PredictionSnapshot(
            model_version=number, predicted_tag=row.tag.slug, probabilities=row.probabilities, confidence=row.confidence
        )
        for row in rows.select_related("tag")
    }
