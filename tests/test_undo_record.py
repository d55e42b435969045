"""The undo record an answer keeps: typed and versioned, and records written before it had a version still undo."""

import pytest

from labeling.models import Annotation, GoldLabel, Provenance, ReportStatus, ReviewStatus, Split
from labeling.services import report_create, review_answer_undo, review_task_answer, review_task_next
from labeling.services.undo import UNDO_RECORD_VERSION, UndoRecord
from tests.factories import make_content

pytestmark = pytest.mark.django_db


def _answer_a_report(tags, annotator):
    content = make_content(current_tag=tags["mlops"], current_tag_origin="gold")
    GoldLabel.objects.create(content=content, tag=tags["mlops"], provenance=Provenance.IMPORTED, split=Split.HOLDOUT)
    report, _ = report_create(content=content, reporter_address="9.9.9.9", suggested_tag=tags["other"])
    task = review_task_next(user=annotator)
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["other"])
    return content, report, task


def test_an_answer_stores_a_versioned_record_that_reads_back_the_same(tags, annotator):
    content, report, task = _answer_a_report(tags, annotator)
    stored = Annotation.objects.get(review_task=task).undo_state
    assert stored["version"] == UNDO_RECORD_VERSION
    record = UndoRecord.from_json(stored)
    assert record.gold.tag_id == tags["mlops"].pk and record.gold.provenance == Provenance.IMPORTED
    assert record.content.current_tag_id == tags["mlops"].pk
    assert record.task_ids == [task.pk] and record.report_ids == [report.pk] and record.opened_task_ids == []
    assert UndoRecord.from_json(record.as_json()) == record


def test_a_record_stored_before_records_had_a_version_still_undoes(tags, annotator):
    content, report, task = _answer_a_report(tags, annotator)
    annotation = Annotation.objects.get(review_task=task)
    # The dict shape answers were stored in before: no version, no opened_task_ids.
    old = {key: value for key, value in annotation.undo_state.items() if key not in ("version", "opened_task_ids")}
    Annotation.objects.filter(pk=annotation.pk).update(undo_state=old)
    assert review_answer_undo(user=annotator).status == ReviewStatus.OPEN
    label = GoldLabel.objects.get(content=content)
    assert (label.tag.slug, label.provenance, label.split) == ("mlops", Provenance.IMPORTED, Split.HOLDOUT)
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN


def test_a_record_of_an_unknown_version_is_refused_not_misread(tags, annotator):
    _, _, task = _answer_a_report(tags, annotator)
    stored = {**Annotation.objects.get(review_task=task).undo_state, "version": UNDO_RECORD_VERSION + 1}
    with pytest.raises(ValueError, match="undo record version"):
        UndoRecord.from_json(stored)
