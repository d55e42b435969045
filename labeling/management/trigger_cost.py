"""What the open-task counts' triggers (migration 0015) cost a set-based writer, such as the bulk re-prediction.

Each step is one statement over ``rows`` tasks, timed with the triggers and without them (disabled inside a
transaction that is rolled back, so the scratch database is left as it was), alternately, medians of ``repeats``.
"""

import statistics
import time

from django.db import connection, transaction

# Items that have no task yet: the seeded ones past the open and the answered tasks (labeling/management/queue_seeding).
STEPS = [
    (
        "open {rows} tasks (INSERT … SELECT)",
        """INSERT INTO labeling_reviewtask (content_id, reason, priority, status, required_answers, predicted_tag,
               probabilities, created_at)
           SELECT id, 'out_of_distribution', 2.5, 'open', 1, 'mlops', '{}', now() FROM labeling_content
           WHERE id > %(first)s ORDER BY id LIMIT %(rows)s""",
    ),
    (
        "re-rank them (priority only)",
        "UPDATE labeling_reviewtask SET priority = 2.4 WHERE reason = 'out_of_distribution' AND content_id > %(first)s",
    ),
    (
        "move them to another predicted tag",
        "UPDATE labeling_reviewtask SET predicted_tag = 'other' WHERE reason = 'out_of_distribution'"
        " AND content_id > %(first)s",
    ),
    (
        "cancel them",
        "UPDATE labeling_reviewtask SET status = 'cancelled' WHERE reason = 'out_of_distribution'"
        " AND content_id > %(first)s",
    ),
]


def trigger_cost(*, first_free_item: int, rows: int = 20_000, repeats: int = 3) -> list[dict]:
    """Per step: median ms with and without the triggers."""
    timings: dict[str, dict[bool, list[float]]] = {name: {True: [], False: []} for name, _ in STEPS}
    for _ in range(repeats):
        for with_triggers in (True, False):
            for name, ms in _run_steps(first_free_item, rows, with_triggers):
                timings[name][with_triggers].append(ms)
    return [
        {
            "step": name.format(rows=f"{rows:,}"),
            "with": statistics.median(t[True]),
            "without": statistics.median(t[False]),
        }
        for name, t in timings.items()
    ]


def _run_steps(first: int, rows: int, with_triggers: bool) -> list[tuple[str, float]]:
    out = []
    with transaction.atomic(), connection.cursor() as cursor:
        if not with_triggers:
            cursor.execute("ALTER TABLE labeling_reviewtask DISABLE TRIGGER USER")
        for name, sql in STEPS:
            began = time.perf_counter()
            cursor.execute(sql, {"first": first, "rows": rows})
            out.append((name, (time.perf_counter() - began) * 1000))
        transaction.set_rollback(True)
    return out
