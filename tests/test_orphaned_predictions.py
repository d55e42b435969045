"""Predictions left behind by an item or version deleted during a re-prediction are swept (predictions.services.orphans).

PostgreSQL does not check a prediction's keys, so the tests make orphans the way a race would leave them: the
referenced row deleted with the prediction still there (raw SQL stands in for the collector having run before the
chunk wrote).
"""

from django.conf import settings
from django.db import connection

from predictions.models import ModelVersion, Prediction
from predictions.services.orphans import predictions_orphaned_delete
from predictions.tasks import sweep_orphaned_predictions
from tests.factories import make_content


def _predict(content, version, tag) -> Prediction:
    return Prediction.objects.create(
        content=content, model_version=version, tag=tag, probabilities={tag.slug: 0.9}, confidence=0.9
    )


def _delete_row(table: str, pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608 -- a test's fixed table names


def test_the_predictions_of_a_gone_item_or_version_are_deleted_and_no_other(tags):
    tag = tags["mlops"]
    kept_item, gone_item = make_content(title="Kept"), make_content(title="Gone")
    kept_version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear")
    gone_version = ModelVersion.objects.create(number=2, algorithm="tfidf-linear")
    kept = _predict(kept_item, kept_version, tag)
    _predict(gone_item, kept_version, tag)
    _predict(kept_item, gone_version, tag)
    _delete_row("labeling_content", gone_item.pk)
    _delete_row("predictions_modelversion", gone_version.pk)

    assert predictions_orphaned_delete() == 2
    assert list(Prediction.objects.values_list("pk", flat=True)) == [kept.pk]
    assert predictions_orphaned_delete() == 0


def test_the_sweep_runs_once_per_period_from_beat(tags):
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-orphaned-predictions"]
    assert entry["task"] == "predictions.tasks.sweep_orphaned_predictions"
    assert entry["schedule"] == settings.TAGLOOP_ORPHAN_SWEEP_EVERY_SECONDS
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear")
    first, second = make_content(title="First"), make_content(title="Second")
    _predict(first, version, tags["other"])
    _delete_row("labeling_content", first.pk)

    assert sweep_orphaned_predictions() == 1  # the task's body, called here: the beat's period is the lease's
    _predict(second, version, tags["other"])
    _delete_row("labeling_content", second.pk)
    assert sweep_orphaned_predictions() == 0  # a second beat within the period does nothing...
    assert Prediction.objects.filter(content_id=second.pk).exists()  # ...so the new orphan waits for the next
