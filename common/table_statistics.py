"""Planner statistics kept fresh by bulk work that changes a table faster than autovacuum analyses it.

A re-prediction opens review tasks and writes predictions by the hundred thousand within minutes. Autovacuum
analyses a table at most once a minute (and not at all where it is switched off, as on the shared development
server), so in between PostgreSQL plans against "the table is empty" statistics: on 47,000 fresh open tasks the
review-task re-rank of one 2,000-item chunk walked every open task once per item, 40-48 s instead of 8 ms.

What moves those plans is how many rows a table holds, which inserts and deletes change. Updates in place do not
(a second promotion re-ranks every open review task and changes how many there are by few), so they are not counted:
autovacuum counts them, and re-analysing the review tasks six times in a 100,000-item second promotion cost the
server more than any statement of the chunk but three (docs/benchmarks.md, "Re-prediction: the two workers' extra
CPU"). Where autovacuum runs, it still analyses after such updates on its own schedule.
"""

from django.db import connection, models, transaction

# Autovacuum's share (autovacuum_analyze_scale_factor 0.1), of rows gained or lost, with a floor so a small table is
# left alone.
CHANGED_SHARE = 0.1
CHANGED_MINIMUM = 1000
# The sample of these ANALYZEs: 300 rows per unit, 6,000 rows instead of the default 30,000. They run a few times per
# promotion to keep row counts and the few values of a status or reason column in view while a table grows; a sample
# of 6,000 sees those as well, at a fifth of the cost (200,000 predictions: 20 ms instead of 65-116). Autovacuum's own
# ANALYZE, where it runs, then samples at the server's default.
STATISTICS_TARGET = 20
# The first key of the advisory lock (two-int form: apart from the project's bigint keys) held while a table is
# analysed; the second is the table's oid.
ANALYZE_LOCK = 0x7461  # "ta"


def analyze_when_stale(model: type[models.Model]) -> bool:
    """ANALYZE ``model``'s table if it gained or lost more rows since it was last analysed than autovacuum would allow.

    PostgreSQL only; returns whether it analysed. Two workers' chunks cross the threshold together: while one
    analyses the table the other goes on at once (the statistics being made serve it too) instead of waiting
    for that ANALYZE and then repeating it. Call it outside a long transaction.
    """
    if connection.vendor != "postgresql":
        return False
    table = model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # reltuples: the rows the last ANALYZE (or VACUUM) counted, -1 when it never ran; n_live_tup: the rows now.
        cursor.execute(
            "SELECT s.n_live_tup, greatest(c.reltuples, 0) FROM pg_stat_user_tables AS s"
            " JOIN pg_class AS c ON c.oid = s.relid WHERE s.relid = %s::regclass",
            [table],
        )
        row = cursor.fetchone()
        if row is None or abs(row[0] - row[1]) < CHANGED_MINIMUM + CHANGED_SHARE * row[1]:
            return False
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s::regclass::oid::integer)", [ANALYZE_LOCK, table])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f"SET LOCAL default_statistics_target = {STATISTICS_TARGET}")
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True
