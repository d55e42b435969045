"""The set-based re-rank of unanswered review tasks changes exactly the tasks the Python one did.

A re-prediction chunk gives the open tasks nobody answered (held ones too, their claim kept) the
new model's snapshot in one UPDATE on PostgreSQL. The crafted case covers every way a task may be
left alone: answered, closed, of another reason, outside the chunk, or already showing the snapshot.
"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from labeling.models import Annotation, ReviewReason, ReviewStatus, ReviewTask
from labeling.services import PredictionSnapshot, review_task_open
from labeling.services.review_queue import _follow_in_python, _follow_in_sql
from tests.factories import make_content, make_low_confidence_task

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the set-based statement is PostgreSQL's"),
]

NEW = PredictionSnapshot(
    model_version=2,
    predicted_tag="computer-vision",
    probabilities={"computer-vision": 0.55, "mlops": 0.25, "natural-language-processing": 0.1, "other": 0.1},
    confidence=0.55,
)


def _crafted(annotator, tags) -> tuple[dict[str, ReviewTask], list[tuple[int, PredictionSnapshot]]]:
    now = timezone.now()
    tasks = {name: make_low_confidence_task() for name in ("free", "same", "held", "lease_over", "answered", "done")}
    ReviewTask.objects.filter(pk=tasks["held"].pk).update(assignee=annotator, lease_expires_at=now + timedelta(hours=1))
    ReviewTask.objects.filter(pk=tasks["lease_over"].pk).update(
        assignee=annotator, lease_expires_at=now - timedelta(minutes=1)
    )
    Annotation.objects.create(
        content=tasks["answered"].content, review_task=tasks["answered"], annotator=annotator, tag=tags["mlops"]
    )
    ReviewTask.objects.filter(pk=tasks["done"].pk).update(status=ReviewStatus.DONE)
    same = tasks["same"]
    tasks["other_reason"] = review_task_open(
        content=tasks["free"].content, reason=ReviewReason.OUT_OF_DISTRIBUTION, snapshot=NEW
    )
    tasks["outside"] = make_low_confidence_task(content=make_content())
    items = [(task.content_id, NEW) for name, task in tasks.items() if name not in ("same", "outside")]
    # Already showing what it would be given: nothing to write.
    assert NEW.confidence is not None
    ReviewTask.objects.filter(pk=same.pk).update(
        model_version=NEW.model_version,
        predicted_tag=NEW.predicted_tag,
        probabilities=NEW.probabilities,
        priority=2.0 + 1 - NEW.confidence,
    )
    items.append((same.content_id, NEW))
    return tasks, items


def _state() -> dict[int, tuple]:
    return {
        pk: tuple(rest)
        for pk, *rest in ReviewTask.objects.values_list(
            "pk", "priority", "model_version", "predicted_tag", "probabilities", "status"
        )
    }


def test_set_based_follow_changes_the_same_tasks_as_the_python_one(tags, annotator):
    tasks, items = _crafted(annotator, tags)
    before = _state()
    savepoint = transaction.savepoint()
    changed_in_sql = _follow_in_sql(items, reason=ReviewReason.LOW_CONFIDENCE)
    after_sql = _state()
    transaction.savepoint_rollback(savepoint)
    assert _state() == before
    changed_in_python = _follow_in_python(items, reason=ReviewReason.LOW_CONFIDENCE)
    assert after_sql == _state()
    assert changed_in_sql == changed_in_python == 3
    moved = {pk for pk in before if before[pk] != after_sql[pk]}
    assert moved == {tasks["free"].pk, tasks["lease_over"].pk, tasks["held"].pk}
    assert ReviewTask.objects.get(pk=tasks["held"].pk).assignee == annotator
    assert after_sql[tasks["free"].pk] == (pytest.approx(2.45), 2, "computer-vision", NEW.probabilities, "open")


def test_closing_untouched_tasks_and_finding_held_ones_in_one_statement_is_what_the_orm_does(
    tags, annotator, monkeypatch
):
    from labeling.services import review_queue
    from labeling.services.review_queue import _held_unanswered, review_tasks_close_untouched

    tasks, items = _crafted(annotator, tags)
    content_ids = [content_id for content_id, _ in items]
    reason = ReviewReason.LOW_CONFIDENCE

    def run() -> tuple[set[int], int, dict[int, tuple]]:
        savepoint = transaction.savepoint()
        held = _held_unanswered(content_ids, reason=reason)
        closed = review_tasks_close_untouched(content_ids=content_ids, reason=reason)
        state = {
            pk: tuple(rest)
            for pk, *rest in ReviewTask.objects.values_list("pk", "status", "assignee_id", "lease_expires_at")
        }
        transaction.savepoint_rollback(savepoint)
        return held, closed, state

    in_sql = run()
    monkeypatch.setattr(review_queue, "connection", type("Other", (), {"vendor": "other"})())
    by_the_orm = run()
    assert in_sql == by_the_orm
    held, closed, state = in_sql
    assert held == {tasks["held"].content_id}
    # Closed: the free task, the one whose lease is over, the one already showing the snapshot. Left: the held,
    # the answered, the done one, the other reason's and the one outside the items.
    assert closed == 3
    assert {pk for pk, (status, *_) in state.items() if status == ReviewStatus.CANCELLED} == {
        tasks["free"].pk,
        tasks["lease_over"].pk,
        tasks["same"].pk,
    }
    assert state[tasks["lease_over"].pk][1:] == (None, None)
    assert review_tasks_close_untouched(content_ids=[], reason=reason) == 0
