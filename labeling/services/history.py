"""Change one of my recent answers from the history list, not only the last one (Prodigy's history sidebar)."""

from django.db import transaction
from django.utils import timezone

from labeling.models import Annotation, Content, Provenance, ReviewStatus, Tag, WrongTagReport
from labeling.services.gold import gold_label_set
from labeling.services.review_answers import reports_resolve
from labeling.services.review_queue import ReviewConflict
from labeling.services.undo import UndoRecord


@transaction.atomic
def review_answer_change(*, annotation_id: int, user, tag: Tag) -> Annotation:
    """Replace ``user``'s answer ``annotation_id`` with ``tag``, wherever it counted; returns the new answer.

    The old answer is kept, marked undone (superseded); the new one takes its task and its undo
    state, so U still puts the item back as it was before the first answer. A settled item's gold
    label and the reports the answer settled follow the new tag. Refused when someone answered the
    item since, or when the answer was one of several (an audit, a disagreement): a reviewer changes
    those from the gold browser.
    """
    old = (
        Annotation.objects.select_for_update(of=("self",))
        .select_related("review_task")
        .get(pk=annotation_id, annotator=user)
    )
    if old.undone_at is not None:
        raise ReviewConflict("That answer was undone or changed already; change the newer one.")
    if old.review_task is None:
        raise ReviewConflict("That change was made in the gold browser; change it there.")
    if old.tag_id == tag.pk:
        return old
    task = old.review_task
    record = UndoRecord.from_json(old.undo_state)
    if task.required_answers > 1 or record.opened_task_ids:
        raise ReviewConflict("Several annotators answered this item; a reviewer can change it in the gold browser.")
    later = Annotation.objects.filter(content_id=old.content_id, undone_at__isnull=True, created_at__gt=old.created_at)
    if later.exclude(pk=old.pk).exists():
        raise ReviewConflict("Someone answered this item after you; your answer can no longer be changed.")
    content = Content.objects.select_for_update().get(pk=old.content_id)
    now = timezone.now()
    new = Annotation.objects.create(
        content=content, review_task=task, annotator=user, tag=tag, undo_state=old.undo_state, created_at=now
    )
    old.undone_at = now
    old.save(update_fields=["undone_at"])
    if task.status == ReviewStatus.DONE:
        _settle_again(content, record, tag=tag, user=user, reason=task.reason, now=now)
    return new


def _settle_again(content: Content, record: UndoRecord, *, tag: Tag, user, reason: str, now) -> None:
    """The gold label and the settled reports follow the new tag, as the first answer set them."""
    reports = list(WrongTagReport.objects.select_for_update().filter(pk__in=record.report_ids))
    # As the first answer judged: a tag other than the one shown then accepts the reports.
    accepted = tag.pk != record.content.current_tag_id
    provenance = Provenance.REPORT if reports and accepted else Provenance.ANNOTATOR
    gold_label_set(content=content, tag=tag, provenance=provenance, decided_by=user, reason=reason)
    if reports:
        notes = {report.pk: _note_of(report.resolution) for report in reports}
        reports_resolve(reports, accepted=accepted, tag=tag, user=user, now=now)
        for report in reports:  # the note the reviewer wrote still stands
            if notes[report.pk]:
                report.resolution += f" Note from the reviewer: {notes[report.pk]}"
        WrongTagReport.objects.bulk_update(reports, ["resolution"])


def _note_of(resolution: str) -> str:
    marker = " Note from the reviewer: "
    return resolution.split(marker, 1)[1] if marker in resolution else ""
