"""A reviewer changes a gold label from the gold browser, with a note."""

from django.db import transaction
from django.utils import timezone

from common.errors import ApplicationError
from labeling.models import (
    Annotation,
    Content,
    GoldLabel,
    Provenance,
    ReportStatus,
    ReviewStatus,
    ReviewTask,
    Tag,
    WrongTagReport,
)
from labeling.services.gold import gold_label_set
from labeling.services.review_answers import reports_resolve


class GoldChangeRefused(ApplicationError):
    """A change from the gold browser that would say nothing: no label, the same tag, or no note."""

    code = "gold_change_refused"


@transaction.atomic
def gold_label_change(*, content_id: int, tag: Tag, user, note: str) -> GoldLabel:
    """A reviewer corrects a gold label from the gold browser, saying why.

    The change is an answer like the review queue's: an Annotation (with the note) by
    ``user``, and the label set through ``gold_label_set`` (provenance ``annotator``,
    decided_by and decided_at, version + 1); the split never moves. Like an answer, it
    settles the item: its open review tasks are done, and its open wrong-tag reports are
    accepted (the tag shown before was not the new one) or rejected, with the note.
    """
    note = note.strip()
    if not note:
        raise GoldChangeRefused("Say why in the note: the next person to read this label needs it.")
    content = Content.objects.select_for_update().get(pk=content_id)
    label = GoldLabel.objects.select_for_update().filter(content=content).first()
    if label is None:
        raise GoldChangeRefused("This item has no gold label to change; answer it in the review queue.")
    if label.tag_id == tag.pk:
        raise GoldChangeRefused(f"The gold label is already {tag.slug}; nothing changed.")
    Annotation.objects.create(content=content, annotator=user, tag=tag, note=note)
    shown_tag_id = content.current_tag_id
    label = gold_label_set(content=content, tag=tag, provenance=Provenance.ANNOTATOR, decided_by=user)
    _settle_open_work(content, tag=tag, user=user, note=note, shown_tag_id=shown_tag_id)
    return label


def _settle_open_work(content: Content, *, tag: Tag, user, note: str, shown_tag_id: int | None) -> None:
    now = timezone.now()
    ReviewTask.objects.filter(content=content, status=ReviewStatus.OPEN).update(
        status=ReviewStatus.DONE, resolved_at=now, resolved_by=user, assignee=None, lease_expires_at=None
    )
    reports = list(WrongTagReport.objects.select_for_update().filter(content=content, status=ReportStatus.OPEN))
    reports_resolve(reports, accepted=tag.pk != shown_tag_id, tag=tag, user=user, now=now, note=note)
