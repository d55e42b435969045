"""Seed a review queue of production size by SQL (``generate_series``), for the queue benchmarks.

The ORM writes about 5,000 rows a second here; one INSERT … SELECT writes a million items in seconds.
The queue's shape follows the priority bands (labeling/services/review_queue.py): a few reports and
disagreements on top, most tasks low-confidence, a tenth audits waiting for two blind answers, some
already half answered; others hold leases at the top of the queue, and the annotator being measured has
a long answered history and a few open reports of their own.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from labeling.models import Content, Tag

SOURCES = ("bench", "bench-a", "bench-b")
OTHER_ANNOTATORS = 60
# (bucket out of 200, reason, SQL for the priority from a 0..999 draw ``r``, required answers)
REASONS = [
    (2, "report", "3.0", 1),
    (1, "disagreement", "2.5", 1),
    (8, "out_of_distribution", "2.0 + (100 + r %% 500) / 1000.0", 1),
    (4, "emerging_topic", "1.9", 1),
    (2, "requeued", "1.8", 1),
    (3, "suspect_label", "1.5 + (r %% 290) / 1000.0", 1),
    (20, "audit_sample", "1.0", 2),
    (160, "low_confidence", "2.0 + (100 + r %% 500) / 1000.0", 1),
]


@dataclass(frozen=True)
class QueueShape:
    content: int = 1_000_000
    open_tasks: int = 200_000

    @property
    def done_tasks(self) -> int:
        # Every item not waiting for review was reviewed once: the history a real queue accumulates.
        return min(self.content - self.open_tasks, 3 * self.open_tasks)

    @property
    def own_answers(self) -> int:
        return self.done_tasks // 12


def seed_queue(shape: QueueShape, *, annotator_id: int, progress: Callable[[str], object]) -> bool:
    """Seed ``shape`` unless it is there already; returns whether it seeded. Ends with VACUUM ANALYZE."""
    if Content.objects.filter(source__in=SOURCES).count() >= shape.content:
        return False
    others = _other_annotators()
    tag_ids = list(Tag.objects.filter(is_active=True).order_by("position").values_list("pk", flat=True))
    slugs = list(Tag.objects.filter(is_active=True).order_by("position").values_list("slug", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        progress(f"seeding {shape.content:,} items…")
        first = _content(cursor, shape.content)
        progress(f"seeding {shape.open_tasks:,} open and {shape.done_tasks:,} answered review tasks…")
        _open_tasks(cursor, shape, first, slugs)
        _done_tasks(cursor, shape, first, slugs, annotator_id, others)
        progress(f"seeding {shape.own_answers:,} answers, leases, half-answered audits and own reports…")
        _answers(cursor, shape, first, annotator_id, others, tag_ids)
        _leases_and_reports(cursor, first, annotator_id, others)
    progress("VACUUM ANALYZE…")
    with connection.cursor() as cursor:
        # What autovacuum does in production: fresh statistics, and a visibility map for index-only scans.
        cursor.execute("VACUUM ANALYZE")
    return True


def _other_annotators() -> list[int]:
    users = get_user_model()
    for i in range(OTHER_ANNOTATORS):
        users.objects.get_or_create(username=f"bench-other-{i}")
    return list(users.objects.filter(username__startswith="bench-other-").values_list("pk", flat=True))


def _content(cursor, count: int) -> int:
    cursor.execute(
        """
        INSERT INTO labeling_content (source, external_id, title, description, created_on, ingested_at, text_hash,
            is_out_of_distribution, ood_reasons, ood_dismissed, current_tag_origin, current_probabilities)
        SELECT CASE WHEN g %% 10 = 8 THEN 'bench-a' WHEN g %% 10 = 9 THEN 'bench-b' ELSE 'bench' END,
               g::text, 'Benchmark item ' || g || ' about models',
               'A description long enough to look like real content, about training and serving models.',
               now() - (g || ' seconds')::interval, now(), md5(g::text), false, '{}', false, 'none', '{}'
        FROM generate_series(1, %s) AS g
        RETURNING id
        """,
        [count],
    )
    return min(row[0] for row in cursor.fetchall())


def _reason_case(column: int) -> str:
    """A CASE over ``g % 200`` picking column ``column`` (reason, priority, required answers) of REASONS."""
    branches, upper = [], 0
    for share, reason, priority, required in REASONS:
        upper += share
        value = (f"'{reason}'", priority, str(required))[column]
        branches.append(f"WHEN g %% 200 < {upper} THEN {value}")
    return "CASE " + " ".join(branches) + " END"


def _open_tasks(cursor, shape: QueueShape, first: int, slugs: list[str]) -> None:
    cursor.execute(
        f"""
        INSERT INTO labeling_reviewtask (content_id, reason, priority, status, required_answers, model_version,
            predicted_tag, probabilities, created_at)
        SELECT {first} + g, {_reason_case(0)}, {_reason_case(1)}, 'open', {_reason_case(2)}, 1,
               (%s::text[])[1 + g %% %s], '{{"mlops": 0.4, "other": 0.3}}',
               now() - ((g * 7919) %% 2592000 || ' seconds')::interval
        FROM (SELECT g, (g * 7919) %% 1000 AS r FROM generate_series(0, %s - 1) AS g) AS drawn
        """,
        [slugs, len(slugs), shape.open_tasks],
    )


def _done_tasks(cursor, shape: QueueShape, first: int, slugs: list[str], annotator_id: int, others) -> None:
    cursor.execute(
        f"""
        INSERT INTO labeling_reviewtask (content_id, reason, priority, status, assignee_id, required_answers,
            model_version, predicted_tag, probabilities, created_at, resolved_at, resolved_by_id)
        SELECT {first} + %s + g, 'low_confidence', 2.3, 'done', who, 1, 1, (%s::text[])[1 + g %% %s], '{{}}',
               now() - interval '60 days', now() - interval '30 days', who
        FROM (SELECT g, CASE WHEN g %% 12 = 0 THEN %s ELSE (%s::int[])[1 + g %% %s] END AS who
              FROM generate_series(0, %s - 1) AS g) AS drawn
        """,
        [shape.open_tasks, slugs, len(slugs), annotator_id, others, len(others), shape.done_tasks],
    )


def _answers(cursor, shape: QueueShape, first: int, annotator_id: int, others, tag_ids: list[int]) -> None:
    # The answers behind the answered tasks: the measured annotator's twelfth, the others' the rest.
    cursor.execute(
        """
        INSERT INTO labeling_annotation (content_id, review_task_id, annotator_id, tag_id, created_at, undo_state, note)
        SELECT t.content_id, t.id, t.resolved_by_id, (%s::int[])[1 + t.id %% %s], t.resolved_at, '{}', ''
        FROM labeling_reviewtask t WHERE t.status = 'done' AND t.content_id >= %s
        """,
        [tag_ids, len(tag_ids), first],
    )
    # Audits waiting for their second blind answer: one in five has a first one, some of them the measured user's.
    cursor.execute(
        """
        INSERT INTO labeling_annotation (content_id, review_task_id, annotator_id, tag_id, created_at, undo_state, note)
        SELECT t.content_id, t.id, CASE WHEN t.id %% 3 = 0 THEN %s ELSE (%s::int[])[1 + t.id %% %s] END,
               (%s::int[])[1 + t.id %% %s], now() - interval '1 day', '{}', ''
        FROM labeling_reviewtask t
        WHERE t.status = 'open' AND t.reason = 'audit_sample' AND t.id %% 5 = 0 AND t.content_id >= %s
        """,
        [annotator_id, others, len(others), tag_ids, len(tag_ids), first],
    )


def _leases_and_reports(cursor, first: int, annotator_id: int, others) -> None:
    # Others at work: each holds one of the top tasks (a live lease) and once held one further down (expired).
    cursor.execute(
        """
        WITH top AS (SELECT id, row_number() OVER (ORDER BY priority DESC, created_at, id) AS n
                     FROM labeling_reviewtask WHERE status = 'open' AND content_id >= %s
                     ORDER BY priority DESC, created_at, id LIMIT %s * 3)
        UPDATE labeling_reviewtask t
        SET assignee_id = (%s::int[])[1 + top.n %% %s],
            lease_expires_at = CASE WHEN top.n %% 3 = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 hour' END
        FROM top WHERE t.id = top.id
        """,
        [first, len(others), others, len(others)],
    )
    # The measured annotator reported some items themselves: never theirs to settle.
    cursor.execute(
        """
        INSERT INTO labeling_wrongtagreport (token, content_id, reporter_id, reporter_hash, comment, status,
            review_task_id, resolution, idempotency_key, created_at)
        SELECT gen_random_uuid(), t.content_id, %s, '', 'wrong', 'open', t.id, '', '', now()
        FROM labeling_reviewtask t WHERE t.status = 'open' AND t.reason = 'report' AND t.content_id >= %s
        ORDER BY t.id DESC LIMIT 20
        """,
        [annotator_id, first],
    )
