"""Planner statistics kept fresh by bulk work that changes a table faster than autovacuum analyses it.

A re-prediction opens review tasks and writes predictions by the hundred thousand within minutes. Autovacuum
analyses a table at most once a minute (and not at all where it is switched off, as on the shared development
server), so in between PostgreSQL plans against "the table is empty" statistics: on 47,000 fresh open tasks the
review-task re-rank of one 2,000-item chunk walked every open task once per item, 40-48 s instead of 8 ms.
"""

from django.db import connection, models, transaction

# Autovacuum's own rule (autovacuum_analyze_scale_factor 0.1), with a floor so a small table is left alone.
CHANGED_SHARE = 0.1
CHANGED_MINIMUM = 1000
# The first key of the advisory lock (two-int form: apart from the project's bigint keys) held while a table is
# analysed; the second is the table's oid.
ANALYZE_LOCK = 0x7461  # "ta"


def analyze_when_stale(model: type[models.Model]) -> bool:
    """ANALYZE ``model``'s table if more rows changed since it was last analysed than autovacuum would allow.

    PostgreSQL only; returns whether it analysed. Two workers' chunks cross the threshold together: while one
    analyses the table the other goes on at once (the statistics being made serve it too) instead of waiting
    for that ANALYZE and then repeating it. Call it outside a long transaction.
    """
    if connection.vendor != "postgresql":
        return False
    table = model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables WHERE relid = %s::regclass", [table]
        )
        row = cursor.fetchone()
        if row is None or row[0] < CHANGED_MINIMUM + CHANGED_SHARE * row[1]:
            return False
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s::regclass::oid::integer)", [ANALYZE_LOCK, table])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True
