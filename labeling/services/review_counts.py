"""Upkeep of the open-task counts the triggers of migration 0015 write (PostgreSQL; SQLite counts directly).

Every statement that changes review tasks appends its net change per (reason, predicted tag, source);
folding the rows keeps the table at about one row per key, so reading the counts stays a few-row sum.
"""

from django.db import connection, transaction

from labeling.selectors import review_counts_kept

# One statement: the rows this snapshot sees are deleted and their sums written back. Rows a concurrent
# statement appends meanwhile are not in the snapshot, so they stay as they are: nothing is lost or counted twice.
FOLD = """
    WITH folded AS (DELETE FROM labeling_reviewqueuecount RETURNING reason, predicted_tag, source, n)
    INSERT INTO labeling_reviewqueuecount (reason, predicted_tag, source, n)
    SELECT reason, predicted_tag, source, sum(n) FROM folded
    GROUP BY reason, predicted_tag, source
    HAVING sum(n) <> 0
"""
RECOUNT = """
    INSERT INTO labeling_reviewqueuecount (reason, predicted_tag, source, n)
    SELECT t.reason, t.predicted_tag, c.source, count(*)
    FROM labeling_reviewtask t JOIN labeling_content c ON c.id = t.content_id
    WHERE t.status = 'open'
    GROUP BY t.reason, t.predicted_tag, c.source
"""


def review_counts_compact() -> int:
    """Fold the counts into one row per key; returns how many rows remain."""
    if not review_counts_kept():
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FOLD)
        return cursor.rowcount


def review_counts_recount() -> int:
    """Count the open tasks from scratch (a repair: after a restore, or a write that bypassed the triggers).

    Writers to the review tasks wait meanwhile, so no change falls between the count and the swap.
    """
    if not review_counts_kept():
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE labeling_reviewtask IN SHARE MODE")
        cursor.execute("DELETE FROM labeling_reviewqueuecount")
        cursor.execute(RECOUNT)
        return cursor.rowcount
