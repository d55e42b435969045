"""The review queue: open tasks and rank them, lease the next one to a person, who may work what."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from common.bulk_update import bound_cursor, insert_rows, json_text, update_by_pk
from common.errors import ApplicationError
from common.pg_arrays import numbers_array
from labeling.models import (
    Annotation,
    Content,
    GoldLabel,
    ReportStatus,
    ReviewReason,
    ReviewStatus,
    ReviewTask,
    WrongTagReport,
)
from labeling.selectors import open_review_tasks, review_counts_kept

# Priorities order the queue, higher first; ties go to the older task. Each reason has a base,
# and within a reason the rank is set as the table says. The bands of all seven reasons:
#
# | reason              | priority                                 | band        | why                             |
# |---------------------|------------------------------------------|-------------|---------------------------------|
# | report              | 3.0                                      | 3.0         | a user saw a wrong tag: first   |
# | disagreement        | 2.5                                      | 2.5         | annotators disagree: a reviewer |
# | low_confidence      | 2.0 + (1 - confidence)                   | 2.0 - 3.0   | most uncertain first (active    |
# |                     |                                          |             | learning); below 0.5 confidence |
# |                     |                                          |             | it outranks a disagreement      |
# | out_of_distribution | 2.0 + (1 - confidence)                   | 2.0 - 3.0   | as low confidence               |
# | requeued            | 1.8                                      | 1.8         | a reviewer asked for a new look |
# | suspect_label       | 1.5 + suspicion, capped at 0.29          | 1.5 - 1.79  | gold a model doubts             |
# | audit_sample        | 1.0                                      | 1.0         | a fair random sample: unranked  |
#
# A snapshot without a confidence (reports, disagreements, re-queued items) gets the base alone.
# Ties on priority and age go to the lower id, so the order is total: the partial index review_open_order_idx
# (migration 0015) holds open tasks in exactly this order, and "next item" reads it from the top.
QUEUE_ORDER = ("-priority", "created_at", "pk")
PRIORITY_BASE: dict[str, float] = {
    ReviewReason.REPORT: 3.0,
    ReviewReason.DISAGREEMENT: 2.5,
    ReviewReason.LOW_CONFIDENCE: 2.0,
    ReviewReason.OUT_OF_DISTRIBUTION: 2.0,
    ReviewReason.REQUEUED: 1.8,
    ReviewReason.EMERGING_TOPIC: 1.9,  # items of a tag just created from an emerging topic
    ReviewReason.SUSPECT_LABEL: 1.5,
    ReviewReason.AUDIT_SAMPLE: 1.0,
}


class ReviewConflict(ApplicationError):
    """An answer arrived for a task this annotator no longer holds."""

    code = "review_conflict"


@dataclass(frozen=True)
class PredictionSnapshot:
    model_version: int | None = None
    predicted_tag: str = ""
    probabilities: dict = field(default_factory=dict)
    confidence: float | None = None


def review_task_open(
    *, content: Content, reason: str, snapshot: PredictionSnapshot = PredictionSnapshot()
) -> ReviewTask:
    """Open a review task, or return the open one for the same item and reason."""
    open_task = ReviewTask.objects.select_for_update().filter(content=content, reason=reason, status=ReviewStatus.OPEN)
    with transaction.atomic():
        task = open_task.first()
        if task:
            return task
        try:
            # A savepoint: losing the race below must not abort the caller's transaction.
            with transaction.atomic():
                return ReviewTask.objects.create(
                    content=content,
                    reason=reason,
                    priority=_priority(reason, snapshot),
                    model_version=snapshot.model_version,
                    predicted_tag=snapshot.predicted_tag,
                    probabilities=snapshot.probabilities,
                )
        except IntegrityError:
            # Another transaction opened the same task after our read (the lock above
            # cannot cover a row that does not exist yet); it has committed, so join it.
            task = open_task.first()
            if task is None:
                raise
            return task


def review_tasks_open_many(
    *, items: list[tuple[int, PredictionSnapshot]], reason: str, required_answers: int = 1
) -> int:
    """Open one task of ``reason`` per item that has no gold label and no open task of that reason.

    Within a reason, the less confident prediction comes first (the active-learning order).
    """
    return _open_many(items, reason=reason, required_answers=required_answers)[0]


def _open_many(
    items: list[tuple[int, PredictionSnapshot]], *, reason: str, required_answers: int = 1
) -> tuple[int, set[int]]:
    """As ``review_tasks_open_many``; also returns the items that had an open task of ``reason`` already."""
    if not items:
        return 0, set()  # no statement for nothing (a chunk often has no item for some reason)
    content_ids = [content_id for content_id, _ in items]
    gold = set(GoldLabel.objects.filter(content_id__any=content_ids).values_list("content_id", flat=True))
    already_open = set(
        ReviewTask.objects.filter(content_id__any=content_ids, reason=reason, status=ReviewStatus.OPEN).values_list(
            "content_id", flat=True
        )
    )
    skip = gold | already_open
    tasks = [
        _NewTask(
            content_id,
            reason,
            _priority(reason, snapshot),
            required_answers,
            snapshot.model_version,
            snapshot.predicted_tag,
            snapshot.probabilities,
            timezone.now(),  # per task, as the model's default stamps each instance
        )
        for content_id, snapshot in items
        if content_id not in skip
    ]
    # Conflicts are skipped: a concurrent worker may have opened the same task a moment
    # ago; the partial unique constraint keeps exactly one. That is rare (the open ones were left out above).
    insert_rows(ReviewTask, tasks, conflicts_rare=True)
    return len(tasks), already_open


@dataclass(slots=True)
class _NewTask:
    """A new review task's row, column by column as ``insert_rows`` reads it; the rest as ReviewTask's defaults.

    Not an ORM instance: a first promotion opens a task for most items, and building one ``ReviewTask`` each, then
    reading it back field by field, cost 12 us of the worker's CPU per task against 3.5 (docs/benchmarks.md,
    "Re-prediction: the two workers' extra CPU"). tests/test_review_tasks_open_rows.py compares the rows.
    """

    content_id: int
    reason: str
    priority: float
    required_answers: int
    model_version: int | None
    predicted_tag: str
    probabilities: dict
    created_at: datetime
    status: str = ReviewStatus.OPEN
    assignee_id: int | None = None
    lease_expires_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by_id: int | None = None


def _priority(reason: str, snapshot: PredictionSnapshot) -> float:
    if snapshot.confidence is None:
        return PRIORITY_BASE[reason]
    return PRIORITY_BASE[reason] + 1.0 - snapshot.confidence


def review_tasks_open_for_low_confidence(*, items: list[tuple[int, PredictionSnapshot]]) -> int:
    """Open tasks for uncertain items; open tasks nobody answered take the newer prediction and its rank.

    Without the re-rank, a task would keep the place the model that opened it gave it,
    and the queue would stop being "least confident first" after every promotion. A task a
    person holds follows too (its claim stays): the page they reload, or answer from, shows
    the model in force, not one retired under them (labeling.views.review says when it changed).
    """
    opened, already_open = _open_many(items, reason=ReviewReason.LOW_CONFIDENCE)
    # Only tasks opened before can hold an older snapshot: the ones just opened hold these. A first
    # promotion's uncertain items have none yet, and the re-rank would look each one up for nothing.
    _unanswered_tasks_follow([item for item in items if item[0] in already_open], reason=ReviewReason.LOW_CONFIDENCE)
    return opened


def review_tasks_held_follow(
    *, content_ids: list[int], snapshot: Callable[[int], PredictionSnapshot], reason: str
) -> int:
    """The open tasks of ``reason`` on these items that a person holds, unanswered, take the newer prediction.

    For the items a re-prediction no longer finds uncertain: the untouched tasks are closed
    (``review_tasks_close_untouched``), a held one stays with its claim and shows what the
    model in force now says. ``snapshot`` is asked only for the few held items.
    """
    held = _held_unanswered(content_ids, reason=reason)
    return _unanswered_tasks_follow([(content_id, snapshot(content_id)) for content_id in sorted(held)], reason=reason)


# _unanswered() in SQL, for this module's statements: a task of the reason (a parameter), open (a parameter),
# that nobody has answered.
_OPEN_UNANSWERED = """task.reason = %b AND task.status = %b
  AND NOT EXISTS (SELECT 1 FROM labeling_annotation AS answer WHERE answer.review_task_id = task.id)"""


def _held_unanswered(content_ids: list[int], *, reason: str) -> set[int]:
    """The items of ``content_ids`` whose open task of ``reason`` a person holds (an unexpired lease), unanswered."""
    if not content_ids:
        return set()
    now = timezone.now()
    if connection.vendor == "postgresql":  # one statement per chunk, not built by the ORM each time (~1 ms)
        with bound_cursor() as cursor:
            cursor.execute(
                _HELD_UNANSWERED_SQL, [numbers_array(list(content_ids)), reason, ReviewStatus.OPEN.value, now]
            )
            return {content_id for (content_id,) in cursor.fetchall()}
    return set(
        _unanswered(ReviewTask.objects.filter(content_id__any=content_ids, reason=reason))
        .filter(assignee__isnull=False, lease_expires_at__gt=now)
        .values_list("content_id", flat=True)
    )


# The ORM query above as one statement (tests/test_review_follow_sql.py compares the two).
_HELD_UNANSWERED_SQL = f"""
SELECT task.content_id FROM labeling_reviewtask AS task
WHERE task.content_id = ANY(%b::bigint[]) AND {_OPEN_UNANSWERED}
  AND task.assignee_id IS NOT NULL AND task.lease_expires_at > %b
"""


def _unanswered_tasks_follow(items: list[tuple[int, PredictionSnapshot]], *, reason: str) -> int:
    """Give the open tasks of ``reason`` on these items that nobody answered the new snapshots.

    A lease is left as it is: the person holding the task keeps it, with the newer numbers.

    Returns how many tasks changed. On PostgreSQL one statement does it (a re-prediction
    chunk re-ranks thousands of tasks); elsewhere the tasks are read and compared here.
    """
    if not items:
        return 0
    if connection.vendor == "postgresql":
        return _follow_in_sql(items, reason=reason)
    return _follow_in_python(items, reason=reason)


# The same tasks as _unanswered() on the same items, changed only where the snapshot differs.
_FOLLOW_SQL = f"""
UPDATE labeling_reviewtask AS task
SET priority = new.priority, model_version = new.model_version,
    predicted_tag = new.predicted_tag, probabilities = new.probabilities
FROM unnest(%b::bigint[], %b::double precision[], %b::integer[], %b::varchar[], %b::jsonb[])
    AS new(content_id, priority, model_version, predicted_tag, probabilities)
WHERE task.content_id = new.content_id AND {_OPEN_UNANSWERED}
  AND (task.model_version, task.predicted_tag, task.probabilities)
      IS DISTINCT FROM (new.model_version, new.predicted_tag, new.probabilities)
"""


def _follow_in_sql(items: list[tuple[int, PredictionSnapshot]], *, reason: str) -> int:
    snapshots = dict(items)  # one row per item, as the dict in _follow_in_python keeps the last
    arrays = [
        list(snapshots),
        [float(_priority(reason, snapshot)) for snapshot in snapshots.values()],
        [snapshot.model_version for snapshot in snapshots.values()],
        [snapshot.predicted_tag for snapshot in snapshots.values()],
        [json_text(snapshot.probabilities) for snapshot in snapshots.values()],
    ]
    with bound_cursor() as cursor:
        cursor.execute(_FOLLOW_SQL, [*arrays, reason, ReviewStatus.OPEN.value])
        return cursor.rowcount


def _follow_in_python(items: list[tuple[int, PredictionSnapshot]], *, reason: str) -> int:
    snapshots = dict(items)
    tasks = _unanswered(ReviewTask.objects.filter(content_id__in=snapshots, reason=reason)).values_list(
        "pk", "content_id", "model_version", "predicted_tag", "probabilities"
    )
    changed = []
    for pk, content_id, model_version, predicted_tag, probabilities in tasks:
        snapshot = snapshots[content_id]
        if (model_version, predicted_tag, probabilities) == (
            snapshot.model_version,
            snapshot.predicted_tag,
            snapshot.probabilities,
        ):
            continue
        changed.append(
            {
                "pk": pk,
                "priority": _priority(reason, snapshot),
                "model_version": snapshot.model_version,
                "predicted_tag": snapshot.predicted_tag,
                "probabilities": snapshot.probabilities,
            }
        )
    return update_by_pk(ReviewTask, changed, ["priority", "model_version", "predicted_tag", "probabilities"])


def _untouched(tasks):
    """Open tasks that nobody holds (an unexpired lease) or has answered."""
    return _unanswered(tasks).filter(Q(assignee__isnull=True) | Q(lease_expires_at__lte=timezone.now()))


def _unanswered(tasks):
    """Open tasks that nobody has answered (held or not)."""
    return tasks.filter(status=ReviewStatus.OPEN).exclude(annotations__isnull=False)


def is_audit_sample(content_id: int, *, share: float) -> bool:
    """A fixed, fair draw per item: the same item is (or is not) sampled on every re-prediction."""
    digest = hashlib.sha256(f"audit:{content_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def review_tasks_open_for_audit(*, items: list[tuple[int, PredictionSnapshot]]) -> int:
    """Blind, multi-annotator audit tasks; a random sample, so all at the same priority."""
    unranked = [(content_id, replace(snapshot, confidence=None)) for content_id, snapshot in items]
    return review_tasks_open_many(
        items=unranked, reason=ReviewReason.AUDIT_SAMPLE, required_answers=settings.TAGLOOP_AUDIT_ANNOTATORS
    )


def review_tasks_open_for_suspects(*, items: list[tuple[int, PredictionSnapshot, float]]) -> int:
    """Ask a person to look again at gold labels a model confidently disagrees with.

    ``items``: (content id, snapshot with the suggested tag, suspicion). Higher suspicion
    comes first in the queue, within the suspect-label band.
    """
    for content_id, snapshot, suspicion in items:
        content = Content.objects.get(pk=content_id)
        task = review_task_open(content=content, reason=ReviewReason.SUSPECT_LABEL, snapshot=snapshot)
        priority = PRIORITY_BASE[ReviewReason.SUSPECT_LABEL] + min(max(suspicion, 0.0), 0.29)
        ReviewTask.objects.filter(pk=task.pk).update(priority=priority)
    return len(items)


def review_tasks_close_untouched(*, content_ids: list[int], reason: str) -> int:
    """Cancel open tasks of ``reason`` on these items that no person has touched yet.

    A task someone holds (an unexpired lease) or has answered before stays: a human's
    attention is never withdrawn under their feet.
    """
    if not content_ids:
        return 0
    now = timezone.now()
    if connection.vendor == "postgresql":
        # A re-prediction chunk closes tasks twice (two reasons): this query built by the ORM cost ~1.5 ms each time.
        with bound_cursor() as cursor:
            cursor.execute(
                _CLOSE_UNTOUCHED_SQL,
                [
                    ReviewStatus.CANCELLED.value,
                    now,
                    numbers_array(list(content_ids)),
                    reason,
                    ReviewStatus.OPEN.value,
                    now,
                ],
            )
            return cursor.rowcount
    return _untouched(ReviewTask.objects.filter(content_id__any=content_ids, reason=reason)).update(
        status=ReviewStatus.CANCELLED, resolved_at=now, assignee=None, lease_expires_at=None
    )


# The tasks of _untouched() on the items, as one statement (tests/test_review_follow_sql.py compares the two).
_CLOSE_UNTOUCHED_SQL = f"""
UPDATE labeling_reviewtask AS task
SET status = %b, resolved_at = %b, assignee_id = NULL, lease_expires_at = NULL
WHERE task.content_id = ANY(%b::bigint[]) AND {_OPEN_UNANSWERED}
  AND (task.assignee_id IS NULL OR task.lease_expires_at <= %b)
"""


def gold_labels_requeue(*, content_ids: list[int], requested_by: User) -> int:
    """Send gold-labelled items back to the queue for another look; returns how many tasks opened."""
    already = set(
        ReviewTask.objects.filter(
            content_id__in=content_ids, reason=ReviewReason.REQUEUED, status=ReviewStatus.OPEN
        ).values_list("content_id", flat=True)
    )
    contents = Content.objects.filter(pk__in=content_ids, gold_label__isnull=False).select_related("gold_label__tag")
    for content in contents:
        # The current gold tag is what the reviewer is asked to confirm or change.
        snapshot = PredictionSnapshot(
            model_version=content.current_model_version,
            predicted_tag=content.gold_label.tag.slug,
            probabilities=content.current_probabilities,
        )
        review_task_open(content=content, reason=ReviewReason.REQUEUED, snapshot=snapshot)
    return len({content.pk for content in contents} - already)


def review_task_next(
    *, user: User, exclude_ids: tuple[int, ...] = (), reason: str = "", tag: str = "", source: str = ""
) -> ReviewTask | None:
    """Lease the next task to ``user``: the one they already hold, or the top free one.

    A held task outside the filters asked for now goes back to the queue, so a filter
    is never ignored and nobody holds two tasks. ``skip_locked`` lets two annotators
    ask at the same moment without waiting for or receiving the same row (PostgreSQL;
    SQLite serialises writers instead).
    """
    now = timezone.now()
    with transaction.atomic():
        matching = without_own_reports(open_review_tasks(reason=reason, tag=tag, source=source), user).filter(
            pk=OuterRef("pk")
        )
        held = list(
            ReviewTask.objects.select_for_update(of=("self",))
            .filter(status=ReviewStatus.OPEN, assignee=user, lease_expires_at__gt=now)
            .annotate(in_filters=Exists(matching))
            .order_by(*QUEUE_ORDER)
        )
        kept = next((task for task in held if task.in_filters), None)
        if kept:
            return kept
        if held:
            ReviewTask.objects.filter(pk__in=[task.pk for task in held]).update(assignee=None, lease_expires_at=None)
        task = (
            review_tasks_free_for(user, now=now, reason=reason, tag=tag, source=source)
            .select_for_update(skip_locked=True, of=("self",))
            .exclude(pk__in=exclude_ids)
            .order_by(*QUEUE_ORDER)
            .first()
        )
        if task is None:
            return None
        task.assignee = user
        task.lease_expires_at = now + timedelta(seconds=settings.TAGLOOP_REVIEW_LEASE_SECONDS)
        task.save(update_fields=["assignee", "lease_expires_at"])
        return task


def review_reasons_withheld_from(user: User) -> list[str]:
    # Disagreements are decided by reviewers, not by another annotator's vote.
    return [] if user.has_perm("labeling.adjudicate") else [ReviewReason.DISAGREEMENT]


def review_tasks_free_for(user: User, *, now=None, reason: str = "", tag: str = "", source: str = ""):
    """The open tasks ``user`` may be given next: nobody else holds them and nothing rules them out.

    What the queue page counts as theirs to do, and what "next" picks from.
    """
    now = now or timezone.now()
    return (
        without_own_reports(open_review_tasks(reason=reason, tag=tag, source=source), user)
        .filter(Q(assignee__isnull=True) | Q(lease_expires_at__lte=now) | Q(assignee=user))
        # Never the same audit item twice to one annotator: the answers must be independent.
        .filter(Q(required_answers__lte=1) | ~Exists(_answered_by(user).filter(review_task=OuterRef("pk"))))
        .exclude(reason__in=review_reasons_withheld_from(user))
    )


def review_tasks_free_count(user: User, *, counted: dict[str, int], reason: str = "", tag: str = "", source: str = ""):
    """How many tasks ``review_tasks_free_for`` would give ``user``, from ``counted`` (open tasks by reason).

    ``counted`` are the open tasks under the same filters, the reasons withheld from ``user`` left out (what
    the queue page shows). What rules a task out for ``user`` is rare (a lease someone else holds, their own
    report, an audit they answered), so counting those few is cheap where counting what is free reads the
    whole queue. SQLite keeps no counts and counts the free tasks themselves.
    """
    if not review_counts_kept():
        return review_tasks_free_for(user, reason=reason, tag=tag, source=source).count()
    return sum(counted.values()) - _ruled_out_for(user, reason=reason, tag=tag, source=source)


# The tasks ruled out for one annotator (see ``_ruled_out_for``). Three small sets, each read through its own
# index: the leases others hold (``review_open_held_idx``), the annotator's own open reports, and the open audits
# beside the annotator's standing answers (``review_open_multi_idx`` and ``annotation_standing_idx``). The
# ``OFFSET 0`` keeps the filters outside: pushed into the branches, the planner would rather walk every open task
# of a reason than the few leases. The constants are literals so the partial indexes' conditions match.
_RULED_OUT = f"""
    SELECT id, reason, predicted_tag, content_id FROM labeling_reviewtask
     WHERE status = '{ReviewStatus.OPEN}' AND assignee_id IS NOT NULL AND assignee_id <> %(user)s
       AND (lease_expires_at IS NULL OR lease_expires_at > %(now)s)
    UNION
    SELECT id, reason, predicted_tag, content_id FROM labeling_reviewtask
     WHERE status = '{ReviewStatus.OPEN}' AND reason = '{ReviewReason.REPORT}'
       AND content_id IN (SELECT content_id FROM labeling_wrongtagreport
                           WHERE reporter_id = %(user)s AND status = '{ReportStatus.OPEN}')
    UNION
    SELECT id, reason, predicted_tag, content_id FROM labeling_reviewtask task
     WHERE status = '{ReviewStatus.OPEN}' AND required_answers > 1
       AND EXISTS (SELECT 1 FROM labeling_annotation answer
                    WHERE answer.annotator_id = %(user)s AND answer.review_task_id IS NOT NULL
                      AND answer.undone_at IS NULL AND answer.review_task_id = task.id)
    OFFSET 0
"""


def _ruled_out_for(user: User, *, reason: str = "", tag: str = "", source: str = "") -> int:
    """Open tasks under the filters (withheld reasons aside) that ``review_tasks_free_for`` leaves out for ``user``.

    The three sets of ``_RULED_OUT`` collected first, then narrowed by reason and tag, and counted by
    PostgreSQL: the page gets one number, not the rows (an annotator with many answered audits has thousands),
    and no ORM query is built per request. A source filter reads the remaining rows' items by id in a second
    statement: joined in the first, the planner (which expects the leases to be most of the queue) would hash
    every item of the source.
    """
    params: dict[str, Any] = {"user": user.pk, "now": timezone.now()}
    conditions = ["NOT (ruled_out.reason = ANY(%(withheld)s))"]
    params["withheld"] = list(review_reasons_withheld_from(user))
    if reason:
        conditions.append("ruled_out.reason = %(reason)s")
        params["reason"] = reason
    if tag:
        conditions.append("ruled_out.predicted_tag = %(tag)s")
        params["tag"] = tag
    where = " AND ".join(conditions)
    with connection.cursor() as cursor:
        if not source:
            cursor.execute(f"SELECT count(*) FROM ({_RULED_OUT}) ruled_out WHERE {where}", params)
            return cursor.fetchone()[0]
        cursor.execute(f"SELECT ruled_out.content_id FROM ({_RULED_OUT}) ruled_out WHERE {where}", params)
        items = [row[0] for row in cursor.fetchall()]
    if not items:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM labeling_content WHERE id = ANY(%s) AND source = %s", [sorted(set(items)), source]
        )
        of_source = {row[0] for row in cursor.fetchall()}
    return sum(1 for item in items if item in of_source)


def without_own_reports(tasks, user: User):
    """Nobody settles their own wrong-tag report, even one they held before reporting the item."""
    return tasks.exclude(reason=ReviewReason.REPORT, content_id__in=_own_open_reports(user))


def _own_open_reports(user: User):
    return WrongTagReport.objects.filter(reporter=user, status=ReportStatus.OPEN).values("content_id")


def _answered_by(user: User):
    """``user``'s standing answers given in the queue.

    Only a task that needs several answers can be open with one of them standing: a single answer
    closes its task, and undo marks the answer undone as it reopens it. So the queue checks answers
    on multi-answer tasks alone, through a small partial index, not every answer a person ever gave.
    """
    return Annotation.objects.filter(annotator=user, undone_at__isnull=True, review_task__isnull=False)


def review_task_allowed(task: ReviewTask, user: User) -> bool:
    """Whether ``user``'s role may see and work ``task`` at all (disagreements need a reviewer)."""
    return task.reason not in review_reasons_withheld_from(user)
