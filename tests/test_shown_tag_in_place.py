"""A re-prediction rewrites the shown tag in place: HOT updates on content, none for an answer already shown.

PostgreSQL counts, per transaction, the rows an UPDATE rewrote and how many of them were HOT (in place, no index
touched): ``pg_stat_get_xact_tuples_updated`` / ``..._hot_updated``. The tests read those counters around the
service a re-prediction chunk calls.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from labeling.models import Content, TagOrigin
from labeling.services import content_show_model_tags
from labeling.services.content import ModelTag
from tests.factories import make_content

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="HOT updates and fillfactor are PostgreSQL's"),
]

PROBABILITIES = {"computer-vision": 0.1, "mlops": 0.2, "natural-language-processing": 0.6, "other": 0.1}


def _updates() -> tuple[int, int]:
    """(rows updated, of which HOT) on labeling_content so far in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
            ["labeling_content", "labeling_content"],
        )
        return cursor.fetchone()


def _answers(items, tag, version, confidence=0.9):
    return [ModelTag(item.pk, tag.pk, confidence, version, PROBABILITIES) for item in items]


def test_a_new_versions_answer_with_the_same_tag_is_rewritten_in_place(tags):
    items = [make_content(title=f"item {n}") for n in range(5)]
    content_show_model_tags(model_tags=_answers(items, tags["mlops"], version=1))
    before = _updates()

    assert content_show_model_tags(model_tags=_answers(items, tags["mlops"], version=2, confidence=0.8)) == 5

    updated, hot = (after - earlier for after, earlier in zip(_updates(), before))
    assert (updated, hot) == (5, 5)
    assert set(Content.objects.values_list("current_tag", "current_model_version", "current_tag_confidence")) == {
        (tags["mlops"].pk, 2, 0.8)
    }


def test_an_answer_already_shown_rewrites_no_row(tags):
    items = [make_content(title=f"item {n}") for n in range(3)]
    content_show_model_tags(model_tags=_answers(items, tags["other"], version=4))
    before = _updates()

    assert content_show_model_tags(model_tags=_answers(items, tags["other"], version=4)) == 0

    assert _updates() == before
    assert set(Content.objects.values_list("current_tag_origin", "current_model_version")) == {(TagOrigin.MODEL, 4)}


def test_the_columns_a_re_prediction_rewrites_are_in_no_index_and_pages_keep_room():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT index.relname, attribute.attname
            FROM pg_index JOIN pg_class AS index ON index.oid = pg_index.indexrelid
            JOIN pg_attribute AS attribute
              ON attribute.attrelid = pg_index.indrelid AND attribute.attnum = ANY(pg_index.indkey)
            WHERE pg_index.indrelid = 'labeling_content'::regclass AND attribute.attname LIKE 'current%%'
            """
        )
        indexed = sorted(cursor.fetchall())
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'labeling_content'::regclass")
        [options] = cursor.fetchone()
    # The order within a tag is ContentTagOrder's (migration 0020): a changed tag is rewritten in place too.
    assert indexed == []
    assert "fillfactor=30" in options


@pytest.fixture
def before_the_room(transactional_db):
    """The schema of 0015 (full pages, the tag's own index); back to the latest afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate([("labeling", "0015_review_queue_counts")])
    try:
        yield
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _content_rows():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, title, description, current_tag_id, current_model_version, current_probabilities::text"
            " FROM labeling_content ORDER BY id"
        )
        return cursor.fetchall()


def _fillfactor():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'labeling_content'::regclass")
        return cursor.fetchone()[0]


def test_the_migration_keeps_every_row_and_reverses(tags, before_the_room):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO labeling_content (source, external_id, title, description, ingested_at, text_hash,"
            " is_out_of_distribution, ood_reasons, ood_dismissed, current_tag_id, current_tag_origin,"
            " current_model_version, current_probabilities)"
            " SELECT 'old', n::text, 'title ' || n, repeat('words ', n %% 50), now(), md5(n::text), false, '{}', false,"
            " %s, 'model', 3, %s::jsonb FROM generate_series(1, 500) AS n",
            [tags["mlops"].pk, '{"mlops": 0.9}'],
        )
    rows = _content_rows()
    assert _fillfactor() is None

    executor = MigrationExecutor(connection)
    executor.migrate([("labeling", "0016_shown_tag_in_place")])
    assert _content_rows() == rows
    assert _fillfactor() == ["fillfactor=50"]

    executor = MigrationExecutor(connection)
    executor.migrate([("labeling", "0015_review_queue_counts")])
    assert _content_rows() == rows
    assert _fillfactor() is None
