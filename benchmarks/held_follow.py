"""What following held review tasks costs a re-prediction chunk (labeling.services.review_tasks_held_follow).

Run with ``manage.py shell < benchmarks/held_follow.py`` on a scratch database: it adds, once, 100,000 items (source
"bench") with an open low-confidence task on every other one, 13 of them held by one person; then times the held-task
follow and, for scale, the close of the untouched tasks on 20 chunks of 2,000 items (each rolled back), and prints
the plan of the look-up of held tasks.
"""

import statistics
import time
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from labeling.models import Content, ReviewTask
from labeling.services import PredictionSnapshot, review_tasks_close_untouched, review_tasks_held_follow

ITEMS, CHUNK, CHUNKS = 100_000, 2000, 20
NEWER = PredictionSnapshot(2, "other", {"other": 0.9}, 0.9)


def make_items() -> list[int]:
    if not Content.objects.filter(source="bench").exists():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO labeling_content (source, external_id, title, description, text_hash, created_on,"
                " ingested_at, current_tag_origin, current_probabilities, is_out_of_distribution, ood_dismissed,"
                " ood_reasons) SELECT 'bench', 'b' || g, 'title ' || g, '', md5(g::text), now(), now(), 'none', '{}',"
                " false, false, '{}' FROM generate_series(1, %s) g",
                [ITEMS],
            )
            cursor.execute(
                "INSERT INTO labeling_reviewtask (content_id, reason, priority, status, required_answers,"
                " model_version, predicted_tag, probabilities, created_at) SELECT id, 'low_confidence', 2.5, 'open',"
                " 1, 1, 'mlops', '{\"mlops\": 0.5}', now() FROM labeling_content WHERE source = 'bench' AND id % 2 = 0"
            )
        ids = list(Content.objects.filter(source="bench").order_by("pk").values_list("pk", flat=True))
        person, _ = User.objects.get_or_create(username="bench-holder")
        ReviewTask.objects.filter(content_id__in=ids[::4000]).update(
            assignee=person, lease_expires_at=timezone.now() + timedelta(days=1)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE labeling_reviewtask")
            cursor.execute("ANALYZE labeling_content")
    return list(Content.objects.filter(source="bench").order_by("pk").values_list("pk", flat=True))


def timed(step, ids: list[int]) -> str:
    """Median and range in ms of ``step(chunk)`` over the chunks, each in a transaction rolled back."""
    times = []
    for start in range(0, CHUNK * CHUNKS, CHUNK):
        with transaction.atomic():
            started = time.perf_counter()
            step(ids[start : start + CHUNK])
            times.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    return f"median {statistics.median(times):.2f} ms, range {min(times):.2f}-{max(times):.2f} (n={len(times)})"


ids = make_items()
print(
    "held follow per chunk:",
    timed(
        lambda chunk: review_tasks_held_follow(content_ids=chunk, snapshot=lambda _: NEWER, reason="low_confidence"),
        ids,
    ),
)  # noqa: E501
print(
    "for scale, close untouched per chunk:",
    timed(lambda chunk: review_tasks_close_untouched(content_ids=chunk, reason="low_confidence"), ids),
)  # noqa: E501
held = (
    ReviewTask.objects.filter(content_id__any=ids[:CHUNK], reason="low_confidence", status="open")
    .exclude(annotations__isnull=False)
    .filter(assignee__isnull=False, lease_expires_at__gt=timezone.now())
    .values_list("content_id", flat=True)
)
sql, params = held.query.sql_with_params()
with connection.cursor() as cursor:
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    print("\n".join(row[0][:160] for row in cursor.fetchall()))
