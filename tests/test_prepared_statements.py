"""A re-prediction chunk's statements are prepared on the kept connection, planned once instead of every chunk.

Django turns psycopg's prepared statements off; ``parameters_bound(prepared=True)`` turns them on for the chunk
only (common/bulk_update.py). Each case runs real chunks (``predictions_create``) against PostgreSQL on one
connection, as a worker does, and reads what the server holds prepared from ``pg_prepared_statements``.
"""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from common.bulk_update import parameters_bound
from labeling.models import Content, Tag, TagOrigin
from predictions.models import Prediction
from predictions.services import predictions_create
from tests.chunk_writes import rows_a_chunk_writes
from tests.factories import make_active_model, make_content, make_low_confidence_task

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
    # The items' prediction jobs (committed: transactional tests) go to a queue no worker reads: the session's worker,
    # if an earlier test started it, would otherwise write predictions while a case compares what its chunks wrote.
    pytest.mark.usefixtures("private_queue"),
]

TITLES = [
    "object detection in video frames",
    "deploying models with kubernetes",
    "text classification with transformers",
    "time series forecasting",
    "graphs and pipelines for images",
    "models of language in production",
    "detection of entities in photos",
    "a recipe for bread",
]


def _prepared() -> list[str]:
    """The statements this connection holds prepared on the server."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY statement")
        return [statement for (statement,) in cursor.fetchall()]


def _as_after_a_promotion(version, items) -> None:
    """The items show an older version's answer and the version has predicted none of them: a second promotion."""
    Prediction.objects.filter(model_version=version).delete()
    Content.objects.filter(pk__in=[item.pk for item in items]).update(
        current_tag_origin=TagOrigin.MODEL, current_model_version=version.number - 1
    )


def _two_chunks(version, items) -> None:
    """Two chunks of the items, each after a promotion: where preparing is on, the second runs its statements prepared."""
    for _ in range(2):
        _as_after_a_promotion(version, items)
        predictions_create(model_version_id=version.pk, content_ids=[item.pk for item in items])


@pytest.fixture
def promoted(tags, model_dir):
    version = make_active_model(tags)
    items = [make_content(title=title) for title in TITLES]
    for item in items[::3]:
        make_low_confidence_task(content=item, confidence=0.3)
    return version, items


def test_a_second_chunk_on_the_connection_runs_prepared_and_writes_the_same(promoted):
    version, items = promoted
    ids = [item.pk for item in items]
    _as_after_a_promotion(version, items)
    connection.close()  # a fresh connection, as a worker's first chunk

    predictions_create(model_version_id=version.pk, content_ids=ids)
    unprepared = rows_a_chunk_writes()
    after_one = _prepared()
    _as_after_a_promotion(version, items)
    predictions_create(model_version_id=version.pk, content_ids=ids)
    prepared = rows_a_chunk_writes()
    after_two = _prepared()

    assert prepared == unprepared
    assert len(after_two) > len(after_one)
    assert any(statement.startswith('UPDATE "labeling_content" AS old') for statement in after_two)
    assert any(statement.startswith('SELECT "predictions_prediction"') for statement in after_two)
    # The new predictions go by COPY, which is never prepared.
    assert not any(statement.startswith('INSERT INTO "predictions_prediction"') for statement in after_two)
    assert connection.connection.prepare_threshold is None


def _plans_made() -> dict[str, int]:
    """Per statement prepared on this connection, how many times it was executed (each execution takes a plan)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def test_nothing_outside_a_chunk_is_prepared_nor_run_prepared(promoted):
    version, items = promoted
    ids = [item.pk for item in items]
    _two_chunks(version, items)
    before = _plans_made()
    tag_read = next(statement for statement in before if statement.startswith('SELECT "labeling_tag"."slug"'))

    for _ in range(3):  # outside the chunk, the same query as one it prepared, and queries of its own
        list(Tag.objects.values_list("slug", "pk"))
        Content.objects.filter(pk__in=ids).count()
        with parameters_bound():  # bound parameters without preparing
            list(Content.objects.filter(pk__in=ids).values_list("pk", flat=True))

    assert _plans_made() == before
    assert tag_read in before
    assert connection.connection.prepare_threshold is None


def test_chunks_of_any_size_prepare_the_same_statements(promoted):
    version, items = promoted
    prepared = []
    for size in (8, 8, 7, 5, 2, 6):
        chunk = items[:size]
        _as_after_a_promotion(version, chunk)
        predictions_create(model_version_id=version.pk, content_ids=[item.pk for item in chunk])
        prepared.append(_prepared())

    # Prepared by the second chunk of all the items; the smaller chunks after it add none: no statement's text
    # follows the chunk's size, so each is prepared once per connection, not once per size (psycopg would keep
    # up to 100, deallocating the least recently used).
    assert len(prepared[1]) > len(prepared[0])
    assert prepared[2:] == [prepared[1]] * 4
    assert len(prepared[1]) <= connection.connection.prepared_max


def test_a_schema_change_between_chunks_is_survived(promoted):
    # A migration (another process) changes a column a prepared query returns: the server refuses the statement
    # ("cached plan must not change result type"); the chunk runs again on a new connection.
    version, items = promoted
    ids = [item.pk for item in items]
    _two_chunks(version, items)
    expected = rows_a_chunk_writes()
    assert any('"labeling_content"."title"' in statement for statement in _prepared())

    _as_after_a_promotion(version, items)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE labeling_content ALTER COLUMN title TYPE varchar(1001)")
    try:
        assert predictions_create(model_version_id=version.pk, content_ids=ids) == len(ids)
        assert rows_a_chunk_writes() == expected
        _as_after_a_promotion(version, items)
        predictions_create(model_version_id=version.pk, content_ids=ids)  # and prepares again
        assert any('"labeling_content"."title"' in statement for statement in _prepared())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE labeling_content ALTER COLUMN title TYPE varchar(1000)")


@override_settings(TAGLOOP_PREPARE_BULK_STATEMENTS=False)
def test_the_setting_turns_it_off(promoted):
    version, items = promoted
    _two_chunks(version, items)

    assert _prepared() == []


def test_while_queries_are_logged_nothing_is_prepared_and_every_statement_is_logged(promoted):
    # psycopg keeps no text of a query it runs prepared: Django would log None for it.
    version, items = promoted
    with CaptureQueriesContext(connection) as queries:
        _two_chunks(version, items)

    assert _prepared() == []
    assert all(query["sql"] for query in queries)
