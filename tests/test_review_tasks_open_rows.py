"""Review tasks opened in bulk are the rows ReviewTask instances would make, column for column.

``review_tasks_open_many`` writes plain rows (labeling.services.review_queue._NewTask), not ORM instances: each case
opens the tasks that way, rolls back, opens them again from ``ReviewTask`` instances as the code did before, and
compares every column (the id and the creation time aside: the time is checked to be stamped per task, in order).
"""

from django.db import transaction
from django.utils import timezone

from common.bulk_update import EncodedJson, insert_rows
from labeling.models import GoldLabel, ReviewReason, ReviewTask
from labeling.services import PredictionSnapshot, review_tasks_open_many
from labeling.services.review_queue import _priority
from tests.factories import make_content, make_low_confidence_task

COLUMNS = [field.attname for field in ReviewTask._meta.concrete_fields if field.attname not in ("id", "created_at")]


def _snapshots() -> list[PredictionSnapshot]:
    probabilities = EncodedJson.of_rows(["mlops", "other"], [[0.55, 0.45], [0.125, 0.875]])
    return [
        PredictionSnapshot(7, "mlops", probabilities[0], 0.55),
        PredictionSnapshot(7, "other", probabilities[1], 0.875),
        PredictionSnapshot(None, "", {}, None),  # no confidence: the reason's base priority
        PredictionSnapshot(3, "mlops", {"mlops": 1.0, "odd \u00e9": 1e-300}, 1.0),
    ]


def _opened_from_instances(items, *, reason: str, required_answers: int) -> None:
    """What review_tasks_open_many wrote before, for items that need a task (no gold, none open)."""
    insert_rows(
        ReviewTask,
        [
            ReviewTask(
                content_id=content_id,
                reason=reason,
                priority=_priority(reason, snapshot),
                required_answers=required_answers,
                model_version=snapshot.model_version,
                predicted_tag=snapshot.predicted_tag,
                probabilities=snapshot.probabilities,
            )
            for content_id, snapshot in items
        ],
    )


def _rows(content_ids) -> list[tuple]:
    return list(
        ReviewTask.objects.filter(content_id__in=content_ids).order_by("content_id", "reason").values_list(*COLUMNS)
    )


def test_tasks_opened_in_bulk_are_the_rows_instances_made(tags):
    items = [make_content(title=f"item {n}") for n in range(8)]
    GoldLabel.objects.create(content=items[6], tag=tags["mlops"])  # skipped: a person decided it
    make_low_confidence_task(content=items[7])  # skipped: a task of that reason is open
    ids = [item.pk for item in items]
    snapshots = _snapshots()
    cases = [
        (ReviewReason.LOW_CONFIDENCE, 1, [(ids[n], snapshots[n % 4]) for n in (0, 1, 2, 3, 6, 7)]),
        (ReviewReason.AUDIT_SAMPLE, 3, [(ids[n], snapshots[n % 4]) for n in (4, 5, 6)]),
        (ReviewReason.OUT_OF_DISTRIBUTION, 1, [(ids[5], snapshots[1]), (ids[0], snapshots[2])]),
    ]
    for reason, required, items_of_reason in cases:
        before = list(ReviewTask.objects.order_by("pk").values_list("pk", *COLUMNS))
        with transaction.atomic():
            began = timezone.now()
            opened = review_tasks_open_many(items=items_of_reason, reason=reason, required_answers=required)
            ended = timezone.now()
            bulk = _rows(ids)
            stamped = list(
                ReviewTask.objects.filter(created_at__gte=began).order_by("pk").values_list("created_at", flat=True)
            )
            transaction.set_rollback(True)
        assert list(ReviewTask.objects.order_by("pk").values_list("pk", *COLUMNS)) == before
        needing = [(content_id, snapshot) for content_id, snapshot in items_of_reason if content_id not in ids[6:]]
        with transaction.atomic():
            _opened_from_instances(needing, reason=reason, required_answers=required)
            from_instances = _rows(ids)
            transaction.set_rollback(True)

        assert opened == len(needing) == len(stamped) > 0
        assert bulk == from_instances
        assert all(began <= at <= ended for at in stamped) and stamped == sorted(stamped)
