"""The review tasks' user keys are indexed only where set (migration labeling 0024).

A re-prediction opens and re-ranks tasks by the thousand, none of them held or answered yet: they must not add
entries to the indexes of ``assignee`` and ``resolved_by``, which still serve a user's deletion and a person's tasks.
"""

import pytest
from django.contrib.auth.models import User
from django.db import connection

from labeling.models import Content, ReviewReason, ReviewStatus, ReviewTask
from labeling.services import PredictionSnapshot, text_hash
from labeling.services.review_queue import review_tasks_open_for_low_confidence

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="index sizes and plans are PostgreSQL's"),
]

TASKS = 3000
SNAPSHOT = PredictionSnapshot(
    model_version=1, predicted_tag="mlops", probabilities={"mlops": 0.4, "other": 0.6}, confidence=0.4
)


def _index_pages(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", [name])
        return cursor.fetchone()[0]


def _open_tasks(tags) -> list[int]:
    Content.objects.bulk_create(
        Content(source="idx", external_id=str(n), title=f"Item {n}", description="", text_hash=text_hash(str(n), ""))
        for n in range(TASKS)
    )
    ids = list(Content.objects.filter(source="idx").values_list("pk", flat=True))
    review_tasks_open_for_low_confidence(items=[(content_id, SNAPSHOT) for content_id in ids])
    return ids


def test_tasks_nobody_holds_or_answered_add_nothing_to_the_user_indexes(tags):
    assignee_pages, resolved_pages = _index_pages("review_assignee_idx"), _index_pages("review_resolved_by_idx")
    _open_tasks(tags)
    assert ReviewTask.objects.filter(content__source="idx", status=ReviewStatus.OPEN).count() == TASKS
    # 3,000 entries of a full index take several pages; these stay as they were.
    assert (_index_pages("review_assignee_idx"), _index_pages("review_resolved_by_idx")) == (
        assignee_pages,
        resolved_pages,
    )


def test_a_users_tasks_are_found_by_index_and_their_deletion_keeps_the_tasks(tags):
    _open_tasks(tags)
    holder, answerer = User.objects.create(username="holder"), User.objects.create(username="answerer")
    held, answered = ReviewTask.objects.filter(content__source="idx", reason=ReviewReason.LOW_CONFIDENCE)[:2]
    ReviewTask.objects.filter(pk=held.pk).update(assignee=holder)
    ReviewTask.objects.filter(pk=answered.pk).update(resolved_by=answerer, status=ReviewStatus.DONE)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE labeling_reviewtask")
        for column, user in [("assignee_id", holder), ("resolved_by_id", answerer)]:
            cursor.execute(f"EXPLAIN SELECT id FROM labeling_reviewtask WHERE {column} = %s", [user.pk])
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan and "Seq Scan" not in plan, plan

    holder.delete()
    answerer.delete()

    held.refresh_from_db()
    answered.refresh_from_db()
    assert (held.assignee_id, answered.resolved_by_id) == (None, None)
    assert ReviewTask.objects.filter(content__source="idx").count() == TASKS
