"""What a re-prediction chunk writes does not depend on how PostgreSQL plans it, and the unchecked keys still hold.

A chunk's transaction prices index probes as on data in memory (common/planner.py): the plans change, the rows
written must not. Each case runs one chunk on the same items under four plannings (the default costs, the chunk's
own, probes forced, whole-table scans forced), rolls it back, and compares every row the chunk may touch.
"""

import csv
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ProtectedError
from django.utils import timezone

from common.planner import plan_for_rows_in_memory
from labeling.models import Annotation, Content, GoldLabel, Provenance, ReviewTask, Split, Tag, TagOrigin
from predictions.models import ModelVersion, Prediction
from predictions.services import batch, predictions_create
from tests.chunk_writes import rows_a_chunk_writes
from tests.conftest import DATASET
from tests.factories import make_active_model, make_content, make_low_confidence_task

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plans and key checks are PostgreSQL's"),
]

PLANNINGS = {
    "default costs": [],
    "the chunk's": None,  # common.planner as the chunk calls it
    "probes forced": ["enable_seqscan = off", "enable_hashjoin = off", "enable_mergejoin = off"],
    "scans forced": ["enable_indexscan = off", "enable_bitmapscan = off", "enable_nestloop = off"],
}


def _planning(settings: list[str] | None):
    if settings is None:
        return plan_for_rows_in_memory

    def plan() -> None:
        with connection.cursor() as cursor:
            for setting in settings:
                cursor.execute(f"SET LOCAL {setting}")

    return plan


def _chunk_under_each_planning(monkeypatch, version: ModelVersion, content_ids: list[int]) -> dict:
    results = {}
    for name, settings in PLANNINGS.items():
        monkeypatch.setattr(batch, "plan_for_rows_in_memory", _planning(settings))
        with transaction.atomic():
            predictions_create(model_version_id=version.pk, content_ids=content_ids)
            results[name] = rows_a_chunk_writes()
            transaction.set_rollback(True)
    return results


@pytest.fixture
def crafted(tags, model_dir):
    """An active version, and items in every state a chunk treats apart."""
    version = make_active_model(tags)
    older = {"computer-vision": 0.25, "mlops": 0.25, "natural-language-processing": 0.25, "other": 0.25}
    items = {
        "plain": make_content(title="object detection in video frames"),
        "shown by an older version": make_content(
            title="deploying models with kubernetes",
            current_tag=tags["other"],
            current_tag_origin=TagOrigin.MODEL,
            current_model_version=version.number - 1,
            current_probabilities=older,
        ),
        "gold": make_content(title="text classification with transformers"),
        "flag in force": make_content(title="time series forecasting", is_out_of_distribution=True),
        "flag dismissed": make_content(
            title="a recipe for bread", is_out_of_distribution=True, ood_dismissed=True, ood_reasons={"x": "y"}
        ),
        "uncertain, task untouched": make_content(title="graphs and pipelines for images"),
        "uncertain, task held": make_content(title="models of language in production"),
        "uncertain, task answered": make_content(title="detection of entities in photos"),
    }
    GoldLabel.objects.create(
        content=items["gold"], tag=tags["mlops"], provenance=Provenance.IMPORTED, split=Split.TRAIN
    )
    person = User.objects.create(username="annotator")
    for name in ("uncertain, task untouched", "uncertain, task held", "uncertain, task answered"):
        task = make_low_confidence_task(content=items[name], confidence=0.3)
        if name.endswith("held"):
            ReviewTask.objects.filter(pk=task.pk).update(
                assignee=person, lease_expires_at=timezone.now() + timedelta(minutes=10)
            )
        if name.endswith("answered"):
            Annotation.objects.create(content=items[name], review_task=task, annotator=person, tag=tags["mlops"])
    return version, [item.pk for item in items.values()]


def test_a_chunk_writes_the_same_rows_however_it_is_planned_on_crafted_items(crafted, monkeypatch):
    version, content_ids = crafted
    before = rows_a_chunk_writes()

    results = _chunk_under_each_planning(monkeypatch, version, content_ids)

    reference = results.pop("default costs")
    assert len(reference["predictions"]) == len(content_ids)
    assert (reference["content"], reference["tasks"]) != (before["content"], before["tasks"])
    assert {name: result == reference for name, result in results.items()} == dict.fromkeys(results, True)


def test_a_chunk_writes_the_same_rows_however_it_is_planned_on_the_dataset(tags, model_dir, monkeypatch):
    version = make_active_model(tags)
    with open(DATASET, newline="") as handle:
        rows = list(csv.DictReader(handle))[:400]
    items = [make_content(title=row["title"], description=row["description"]) for row in rows]
    # What a second promotion finds: half the items show an older answer, some have gold or an open task.
    for item in items[::2]:
        Content.objects.filter(pk=item.pk).update(
            current_tag=tags["other"], current_tag_origin=TagOrigin.MODEL, current_model_version=version.number - 1
        )
    for item in items[::7]:
        GoldLabel.objects.create(content=item, tag=tags["mlops"], provenance=Provenance.IMPORTED, split=Split.TRAIN)
    for item in items[1::5]:
        make_low_confidence_task(content=item, confidence=0.35)

    results = _chunk_under_each_planning(monkeypatch, version, [item.pk for item in items])

    reference = results.pop("default costs")
    assert len(reference["predictions"]) == len(items)
    assert {name: result == reference for name, result in results.items()} == dict.fromkeys(results, True)


@pytest.mark.django_db(transaction=True)
def test_the_chunks_planning_ends_with_its_transaction(tags, model_dir):
    version = make_active_model(tags)
    item = make_content(title="object detection in video frames")

    predictions_create(model_version_id=version.pk, content_ids=[item.pk])

    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "4"
    assert Prediction.objects.filter(content=item, model_version=version).exists()


def test_the_version_s_stored_predictions_are_read_with_the_chunk_s_planning(tags, model_dir):
    # At the default costs a first promotion read them with a sequential scan of the table it was filling, per chunk.
    from django.test.utils import CaptureQueriesContext

    version = make_active_model(tags)
    items = [make_content(title=f"item {n}") for n in range(3)]
    predictions_create(model_version_id=version.pk, content_ids=[items[0].pk])

    with CaptureQueriesContext(connection) as queries:
        predictions_create(model_version_id=version.pk, content_ids=[item.pk for item in items])

    statements = [query["sql"] for query in queries]
    read = next(n for n, sql in enumerate(statements) if sql.startswith('SELECT "predictions_prediction"."id"'))
    assert "random_page_cost" in statements[read - 1]
    assert Prediction.objects.filter(model_version=version, content__in=items).count() == 3


def _foreign_keys() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_constraint JOIN pg_attribute ON attrelid = conrelid AND attnum = ANY(conkey)"
            " WHERE conrelid = 'predictions_prediction'::regclass AND contype = 'f' ORDER BY attname"
        )
        return [name for (name,) in cursor.fetchall()]


def test_the_keys_postgresql_no_longer_checks_django_still_keeps(tags):
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear")
    spare = Tag.objects.create(slug="spare", name="Spare")
    items = [make_content(title=f"item {n}") for n in range(3)]
    for item in items:
        Prediction.objects.create(
            content=item, model_version=version, tag=spare, probabilities={"spare": 1.0}, confidence=1.0
        )
    assert _foreign_keys() == []

    with pytest.raises(ProtectedError):
        spare.delete()  # PROTECT: a tag a prediction names stays
    items[0].delete()  # CASCADE: an item's predictions go with it
    assert Prediction.objects.filter(content_id=items[0].pk).count() == 0
    version.delete()  # CASCADE: so do a version's
    assert Prediction.objects.count() == 0
    spare.delete()


@contextmanager
def _migrated_back_to(*targets):
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    try:
        yield
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'labeling_content'")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_migrations_reverse_and_keep_every_row(tags):
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear")
    item = make_content(title="flagged", is_out_of_distribution=True)
    Prediction.objects.create(content=item, model_version=version, tag=tags["mlops"], probabilities={}, confidence=0.5)
    ours = {"content_ood_idx", "content_text_hash_idx"}
    theirs = {
        "labeling_content_created_on_f77d0a25",
        "labeling_content_text_hash_f068bc0d",
        "labeling_content_text_hash_f068bc0d_like",
    }
    assert (ours <= _indexes(), theirs & _indexes()) == (True, set())

    with _migrated_back_to(("predictions", "0014_prediction_statistics"), ("labeling", "0017_reviewtask_statistics")):
        assert _foreign_keys() == ["content_id", "model_version_id", "tag_id"]
        assert (ours & _indexes(), theirs <= _indexes()) == (set(), True)
        assert Prediction.objects.count() == 1

    assert _foreign_keys() == []
    assert (ours <= _indexes(), theirs & _indexes()) == (True, set())
    assert list(Content.objects.filter(is_out_of_distribution=True).values_list("pk", flat=True)) == [item.pk]
