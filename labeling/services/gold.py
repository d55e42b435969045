"""Gold labels: set one (from any answer) and show it."""

from django.contrib.auth.models import User
from django.utils import timezone

from labeling.models import Content, GoldLabel, ReviewReason, Split, Tag
from labeling.services.content import show_gold_tags
from labeling.services.splits import assign_splits
from labeling.signals import gold_label_decided
from webhooks.events import emit
from webhooks.models import Event


def gold_label_set(
    *, content: Content, tag: Tag, provenance: str, decided_by: User | None = None, reason: str = ""
) -> GoldLabel:
    """Create or change the gold label of ``content`` and show it on public pages.

    A label created from the review queue goes to the training split unless the item
    was a random audit sample (or an adjudicated one): items picked for being uncertain
    or reported are not a fair sample of the stream, so they must not enter the holdout.
    """
    now = timezone.now()
    label = GoldLabel.objects.select_for_update().filter(content=content).first()
    if label is None:
        if reason in (ReviewReason.AUDIT_SAMPLE, ReviewReason.DISAGREEMENT):
            split = assign_splits([(content, tag)])[content.pk]
        else:
            split = Split.TRAIN
        label = GoldLabel.objects.create(
            content=content,
            tag=tag,
            provenance=provenance,
            decided_by=decided_by,
            decided_at=now,
            split=split,
        )
    elif label.tag_id != tag.pk or label.provenance != provenance:
        label.version += 1 if label.tag_id != tag.pk else 0
        label.tag, label.provenance, label.decided_by, label.decided_at = tag, provenance, decided_by, now
        label.save(update_fields=["tag", "provenance", "decided_by", "decided_at", "version"])
    else:
        show_gold_tags([(content.pk, tag.pk)])
        return label
    show_gold_tags([(content.pk, tag.pk)])
    gold_label_decided.send(sender=GoldLabel, content_id=content.pk, source=content.source, reason=reason)
    emit(Event.GOLD_LABEL_DECIDED, gold_label_payload(label, content))
    return label


def gold_label_payload(label: GoldLabel, content: Content) -> dict:
    return {
        "content_id": content.pk,
        "source": content.source,
        "external_id": content.external_id,
        "tag": label.tag.slug,
        "provenance": label.provenance,
        "split": label.split,
        "version": label.version,
        "decided_by": label.decided_by.get_username() if label.decided_by else None,
        "decided_at": label.decided_at.isoformat(),
    }
