"""Issue 18: the review queue at a million items.

The queue page's counts come from a table PostgreSQL's triggers keep (migration 0015), and "next item"
walks a partial index in the queue's order. Both must say exactly what counting and sorting the open
tasks said before, through every way tasks open, change and close.
"""

from datetime import timedelta
from io import StringIO
from itertools import product

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from labeling import selectors
from labeling.models import Content, ReviewQueueCount, ReviewTask
from labeling.services import (
    PredictionSnapshot,
    report_create,
    review_answer_undo,
    review_task_answer,
    review_task_next,
    review_task_open,
    review_task_skip,
    review_tasks_close_untouched,
    review_tasks_free_count,
    review_tasks_free_for,
    review_tasks_open_for_audit,
    review_tasks_open_for_low_confidence,
)
from labeling.services.review_counts import review_counts_compact
from tests.factories import make_content

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the counts are kept by PostgreSQL triggers"),
]

FILTERS = [
    {"reason": reason, "tag": tag, "source": source}
    for reason, tag, source in product(
        ["", "low_confidence", "audit_sample", "report"], ["", "mlops", "other"], ["", "feed-a", "feed-b"]
    )
]


def _counted_live(*, reason="", tag="", source="") -> dict[str, int]:
    """What the page showed before the counts were kept: a GROUP BY over the open tasks."""
    rows = selectors.open_review_tasks(reason=reason, tag=tag, source=source).values("reason").annotate(n=Count("pk"))
    return {row["reason"]: row["n"] for row in rows}


def _assert_counts_exact():
    for filters in FILTERS:
        assert selectors.review_queue_counts(**filters) == _counted_live(**filters), filters


def _assert_free_count_exact(*users):
    for user, filters in product(users, FILTERS):
        withheld = {"disagreement"} if not user.has_perm("labeling.adjudicate") else set()
        counted = {
            reason: n for reason, n in selectors.review_queue_counts(**filters).items() if reason not in withheld
        }
        expected = review_tasks_free_for(user, **filters).count()
        assert review_tasks_free_count(user, counted=counted, **filters) == expected, (user.username, filters)


def _snapshot(tag: str, confidence: float, version: int = 1) -> PredictionSnapshot:
    return PredictionSnapshot(
        model_version=version, predicted_tag=tag, probabilities={tag: confidence}, confidence=confidence
    )


def _items(n: int, source: str) -> list[Content]:
    return [make_content(source=source, title=f"item {source} {i}") for i in range(n)]


def test_counts_stay_exact_through_open_answer_close_and_re_prediction(tags, annotator, second_annotator, reviewer):
    feed_a, feed_b = _items(6, "feed-a"), _items(4, "feed-b")
    items = feed_a + feed_b
    review_tasks_open_for_low_confidence(items=[(item.pk, _snapshot("mlops", 0.4)) for item in items])
    _assert_counts_exact()

    # A promotion re-predicts: untouched tasks take the new tag (a move between keys), new items open tasks.
    repredicted = [(item.pk, _snapshot("other" if i % 2 else "mlops", 0.45, 2)) for i, item in enumerate(items)]
    review_tasks_open_for_low_confidence(items=repredicted)
    _assert_counts_exact()
    review_tasks_close_untouched(content_ids=[item.pk for item in feed_a[:2]], reason="low_confidence")
    _assert_counts_exact()

    # Audits: a first blind answer keeps the task open; a disagreeing second closes it and opens a disagreement.
    review_tasks_open_for_audit(items=[(item.pk, _snapshot("mlops", 0.9)) for item in feed_b[:2]])
    audit = ReviewTask.objects.get(content=feed_b[0], reason="audit_sample")
    review_task_answer(task_id=audit.pk, user=annotator, tag=tags["mlops"])
    _assert_counts_exact()
    review_task_answer(task_id=audit.pk, user=second_annotator, tag=tags["other"])
    _assert_counts_exact()

    # A report, an answer that settles every open task of its item, its undo, a skip.
    report_create(content=feed_a[3], reporter_address="10.0.0.1")
    _assert_counts_exact()
    task = review_task_next(user=reviewer, reason="report")
    review_task_answer(task_id=task.pk, user=reviewer, tag=tags["computer-vision"])
    _assert_counts_exact()
    review_answer_undo(user=reviewer)
    _assert_counts_exact()
    review_task_skip(task_id=review_task_next(user=annotator).pk, user=annotator)
    _assert_counts_exact()

    # An item moving to another source, an item deleted with its tasks.
    Content.objects.filter(pk=feed_a[4].pk).update(source="feed-b")
    _assert_counts_exact()
    feed_b[3].delete()
    _assert_counts_exact()


def test_set_based_sql_keeps_the_counts_too(tags):
    """What the bulk re-prediction writes in one statement per chunk: inserts, re-ranks, cancellations."""
    items = _items(8, "feed-a")
    ids = [item.pk for item in items]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO labeling_reviewtask (content_id, reason, priority, status, required_answers, predicted_tag,
                probabilities, created_at)
            SELECT id, 'low_confidence', 2.5, 'open', 1, 'mlops', '{}', now() FROM unnest(%s::bigint[]) AS id
            ON CONFLICT DO NOTHING
            """,
            [ids],
        )
        _assert_counts_exact()
        cursor.execute(
            "UPDATE labeling_reviewtask SET predicted_tag = 'other', priority = 2.2 WHERE content_id = ANY(%s)",
            [ids[:3]],
        )
        _assert_counts_exact()
        cursor.execute(
            "UPDATE labeling_reviewtask SET status = 'cancelled', resolved_at = now() WHERE content_id = ANY(%s)",
            [ids[3:5]],
        )
        _assert_counts_exact()
        cursor.execute("DELETE FROM labeling_reviewtask WHERE content_id = %s", [ids[7]])
    _assert_counts_exact()


def test_folding_and_recounting_change_no_count(tags, annotator):
    items = _items(5, "feed-a") + _items(3, "feed-b")
    for i, item in enumerate(items):
        review_task_open(content=item, reason="low_confidence", snapshot=_snapshot(["mlops", "other"][i % 2], 0.4))
    review_tasks_close_untouched(content_ids=[items[0].pk], reason="low_confidence")
    rows_before = ReviewQueueCount.objects.count()

    remaining = review_counts_compact()

    # One row per (reason, tag, source) with open tasks: low_confidence x {mlops, other} x {feed-a, feed-b}.
    assert remaining == ReviewQueueCount.objects.count() == 4 < rows_before
    _assert_counts_exact()
    # A write that bypassed the triggers, repaired by the command.
    ReviewQueueCount.objects.create(reason="low_confidence", predicted_tag="mlops", source="feed-a", n=99)
    out = StringIO()
    call_command("review_counts_recount", stdout=out)
    assert out.getvalue().startswith("4 counts written")
    _assert_counts_exact()


def test_the_free_count_is_what_next_item_may_give(tags, annotator, second_annotator, reviewer):
    now = timezone.now()
    items = _items(8, "feed-a") + _items(4, "feed-b")
    review_tasks_open_for_low_confidence(
        items=[(item.pk, _snapshot(["mlops", "other"][i % 2], 0.3 + i / 100)) for i, item in enumerate(items)]
    )
    tasks = list(ReviewTask.objects.order_by("pk"))
    # Held by someone else: a live lease, a lease without an end; an expired one is free again.
    ReviewTask.objects.filter(pk=tasks[0].pk).update(
        assignee=second_annotator, lease_expires_at=now + timedelta(hours=1)
    )
    ReviewTask.objects.filter(pk=tasks[1].pk).update(assignee=second_annotator, lease_expires_at=None)
    ReviewTask.objects.filter(pk=tasks[2].pk).update(
        assignee=second_annotator, lease_expires_at=now - timedelta(hours=1)
    )
    # The annotator's own report, an audit they answered, a disagreement only reviewers decide.
    report_create(content=items[3], reporter=annotator, reporter_address="10.0.0.2")
    review_tasks_open_for_audit(items=[(item.pk, _snapshot("mlops", 0.9)) for item in items[8:11]])
    audit = ReviewTask.objects.get(content=items[8], reason="audit_sample")
    review_task_answer(task_id=audit.pk, user=annotator, tag=tags["mlops"])
    disagreement = ReviewTask.objects.get(content=items[9], reason="audit_sample")
    review_task_answer(task_id=disagreement.pk, user=second_annotator, tag=tags["mlops"])
    review_task_answer(task_id=disagreement.pk, user=reviewer, tag=tags["other"])

    _assert_free_count_exact(annotator, second_annotator, reviewer)


def test_next_item_follows_the_queue_order_and_skips_what_is_not_theirs(tags, annotator, second_annotator):
    """A crafted queue: every reason's band, ties in priority and in age; the order is priority, age, then id."""
    now = timezone.now()
    crafted = [
        ("audit_sample", 1.0, 5),
        ("low_confidence", 2.62, 9),
        ("report", 3.0, 1),
        ("suspect_label", 1.71, 2),
        ("low_confidence", 2.62, 3),  # the same priority, older: before the one above
        ("requeued", 1.8, 4),
        ("out_of_distribution", 2.9, 6),
        ("emerging_topic", 1.9, 7),
        ("low_confidence", 2.1, 8),
        ("low_confidence", 2.1, 8),  # a full tie: the lower id first
        ("report", 3.0, 2),
    ]
    tasks = []
    for reason, priority, minutes_old in crafted:
        task = review_task_open(content=make_content(), reason=reason)
        ReviewTask.objects.filter(pk=task.pk).update(priority=priority, created_at=now - timedelta(minutes=minutes_old))
        tasks.append(ReviewTask.objects.get(pk=task.pk))
    held = tasks[6]
    ReviewTask.objects.filter(pk=held.pk).update(assignee=second_annotator, lease_expires_at=now + timedelta(hours=1))
    expected = [
        task.pk
        for task in sorted(tasks, key=lambda task: (-task.priority, task.created_at, task.pk))
        if task.pk != held.pk
    ]

    given = []
    while (task := review_task_next(user=annotator, exclude_ids=tuple(given))) is not None:
        given.append(task.pk)
        review_task_skip(task_id=task.pk, user=annotator)

    assert given == expected


def _plan_of_next_item(user, **filters) -> str:
    with CaptureQueriesContext(connection) as captured:
        review_task_next(user=user, **filters)
    sql = next(query["sql"] for query in captured.captured_queries if "SKIP LOCKED" in query["sql"])
    with connection.cursor() as cursor:
        # The test tables are tiny, where a scan and a sort are cheapest: forbid them to see whether the index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("filters", "index"),
    [({}, "review_open_order_idx"), ({"reason": "low_confidence"}, "review_open_reason_order_idx")],
)
def test_next_item_reads_a_partial_index_in_the_queue_order_and_sorts_nothing(tags, annotator, filters, index):
    for i in range(3):
        review_tasks_open_for_low_confidence(items=[(make_content().pk, _snapshot("mlops", 0.3 + i / 10))])

    plan = _plan_of_next_item(annotator, **filters)

    assert f"Index Scan using {index}" in plan, plan
    assert "Sort" not in plan, plan


def test_beat_folds_the_counts(tags, settings):
    from labeling.tasks import compact_review_counts

    for item in _items(3, "feed-a"):
        review_task_open(content=item, reason="low_confidence", snapshot=_snapshot("mlops", 0.4))

    assert settings.CELERY_BEAT_SCHEDULE["compact-review-counts"]["task"] == compact_review_counts.name
    assert compact_review_counts() == ReviewQueueCount.objects.count() == 1
    _assert_counts_exact()


def test_the_free_count_stays_exact_where_the_ruled_out_sets_overlap(tags, annotator, second_annotator, reviewer):
    """An answered audit someone else now holds, an own report someone else holds, an item with a task of each
    reason: each task ruled out once, whichever sets it is in, under every filter."""
    now = timezone.now()
    items = _items(4, "feed-a") + _items(4, "feed-b")
    review_tasks_open_for_audit(
        items=[(item.pk, _snapshot(["mlops", "other"][i % 2], 0.9)) for i, item in enumerate(items)]
    )
    review_tasks_open_for_low_confidence(items=[(item.pk, _snapshot("other", 0.3)) for item in items[:3]])
    for item in items[:2] + items[5:7]:
        review_task_answer(
            task_id=ReviewTask.objects.get(content=item, reason="audit_sample").pk, user=annotator, tag=tags["mlops"]
        )
    report_create(content=items[1], reporter=annotator, reporter_address="10.0.0.2")
    report_create(content=items[6], reporter=annotator, reporter_address="10.0.0.2")
    held = ReviewTask.objects.filter(content__in=[items[0], items[1], items[6]]).exclude(reason="low_confidence")
    held.update(assignee=second_annotator, lease_expires_at=now + timedelta(hours=1))
    assert ReviewTask.objects.filter(status="open", reason="report").count() == 2

    _assert_free_count_exact(annotator, second_annotator, reviewer)


@pytest.mark.parametrize(
    ("filters", "statements"), [({}, 1), ({"reason": "audit_sample", "tag": "mlops"}, 1), ({"source": "feed-a"}, 2)]
)
def test_the_page_counts_what_is_ruled_out_in_the_database(tags, annotator, filters, statements):
    """Issue 18: the ruled-out tasks are counted by PostgreSQL (a source filter reads their items by id after);
    fetching every ruled-out row, thousands for an annotator with many answered audits, cost the page more
    than the statement."""
    items = _items(3, "feed-a")
    review_tasks_open_for_audit(items=[(item.pk, _snapshot("mlops", 0.9)) for item in items])
    for item in items[:2]:
        review_task_answer(task_id=ReviewTask.objects.get(content=item).pk, user=annotator, tag=tags["mlops"])
    counted = selectors.review_queue_counts(**filters)
    annotator.has_perm("labeling.adjudicate")  # the permissions cached, as on the page

    with CaptureQueriesContext(connection) as captured:
        free = review_tasks_free_count(annotator, counted=counted, **filters)

    assert free == review_tasks_free_for(annotator, **filters).count() == 1
    assert len(captured) == statements, [query["sql"] for query in captured.captured_queries]
    assert captured.captured_queries[0]["sql"].startswith("SELECT count(*)" if statements == 1 else "SELECT ruled_out")
