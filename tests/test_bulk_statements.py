"""Helpers of bulk work on PostgreSQL: ``field__any`` (one array parameter) and statistics kept fresh."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.bulk_update import EncodedJson
from common.table_statistics import STATISTICS_TARGET, analyze_when_stale
from labeling.models import Content, ReviewTask
from tests.factories import make_content

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_any_selects_what_in_selects_with_one_parameter_for_the_list(tags):
    items = [make_content(title=f"item {n}") for n in range(6)]
    make_content(title="left out")
    wanted = [item.pk for item in items[::2]] + [10**12]

    with CaptureQueriesContext(connection) as queries:
        found = sorted(Content.objects.filter(pk__any=wanted).values_list("pk", flat=True))

    assert found == sorted(Content.objects.filter(pk__in=wanted).values_list("pk", flat=True)) == wanted[:-1]
    if connection.vendor == "postgresql":
        assert "= ANY(" in queries[0]["sql"] and " IN (" not in queries[0]["sql"]
    else:  # other databases take IN, as pk__in does
        assert " IN (" in queries[0]["sql"]
    assert list(ReviewTask.objects.filter(content_id__any=wanted)) == []
    assert list(Content.objects.filter(pk__any=[])) == []


def _insert_items(cursor, source: str, count: int) -> None:
    """``count`` bare items of ``source``, inserted in one statement."""
    cursor.execute(
        "INSERT INTO labeling_content (source, external_id, title, description, ingested_at, text_hash,"
        " is_out_of_distribution, ood_reasons, ood_dismissed, current_tag_origin, current_probabilities)"
        " SELECT %s, n::text, 't', '', now(), md5(n::text), false, '{}', false, 'none', '{}'"
        " FROM generate_series(1, %s) AS n",
        [source, count],
    )


def _last_analyzed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT coalesce(last_analyze, '-infinity') FROM pg_stat_user_tables WHERE relid = 'labeling_content'::regclass"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
@pytest.mark.django_db(transaction=True)
def test_a_table_changed_beyond_autovacuums_rule_is_analysed_once():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE labeling_content")
    before = _last_analyzed()
    with connection.cursor() as cursor:
        _insert_items(cursor, "bulk", 1500)
    _last_analyzed()  # flushes this session's counts of the insert

    assert analyze_when_stale(Content) is True
    assert _last_analyzed() > before
    assert analyze_when_stale(Content) is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
@pytest.mark.django_db(transaction=True)
def test_the_bulk_works_analyse_samples_less_and_leaves_the_setting_alone():
    with connection.cursor() as cursor:
        _insert_items(cursor, "sampled", 8000)
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this session's counts of the insert, at its next commit

    assert analyze_when_stale(Content) is True
    with connection.cursor() as cursor:
        # 8,000 distinct text hashes: the histogram has as many bounds as the sample's target allows, plus one.
        cursor.execute(
            "SELECT array_length(histogram_bounds::text::text[], 1) FROM pg_stats"
            " WHERE tablename = 'labeling_content' AND attname = 'text_hash'"
        )
        assert cursor.fetchone()[0] == STATISTICS_TARGET + 1
        cursor.execute("SHOW default_statistics_target")
        assert cursor.fetchone()[0] == "100"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
@pytest.mark.django_db(transaction=True)
def test_rows_updated_in_place_leave_the_statistics_alone_and_rows_deleted_do_not():
    # A second promotion re-ranks every open review task without changing how many there are: no ANALYZE for that.
    with connection.cursor() as cursor:
        _insert_items(cursor, "moved", 3000)
    _last_analyzed()  # the insert counted before ANALYZE, not added to its count afterwards
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE labeling_content")
        before = _last_analyzed()
        cursor.execute("UPDATE labeling_content SET title = 'rewritten' WHERE source = 'moved'")
        cursor.execute("UPDATE labeling_content SET title = 'and again' WHERE source = 'moved'")
    _last_analyzed()  # flushes this session's counts

    assert analyze_when_stale(Content) is False
    assert _last_analyzed() == before
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM labeling_content WHERE source = 'moved' AND external_id::int <= 1500")
    _last_analyzed()
    assert analyze_when_stale(Content) is True
    assert _last_analyzed() > before


@pytest.mark.django_db
def test_any_takes_ids_given_as_text_as_in_does(tags):
    item = make_content(title="by its id as text")

    assert list(Content.objects.filter(pk__any=[str(item.pk), item.pk]).values_list("pk", flat=True)) == [item.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
@pytest.mark.django_db(transaction=True)
def test_analyze_keeps_no_statistics_of_the_columns_no_query_filters_on():
    # Migrations predictions 0014 and labeling 0017: ANALYZE skips these columns (half of its time), and only these.
    with connection.cursor() as cursor:
        _insert_items(cursor, "stats", 50)
        cursor.execute(
            "INSERT INTO labeling_reviewtask (content_id, reason, priority, status, predicted_tag, probabilities,"
            " created_at, required_answers) SELECT id, 'low_confidence', 2.5, 'open', 'mlops', '{\"mlops\": 0.5}',"
            " now(), 1 FROM labeling_content WHERE source = 'stats'"
        )
        cursor.execute("ANALYZE labeling_reviewtask")
        cursor.execute(
            "SELECT attname FROM pg_stats WHERE tablename = 'labeling_reviewtask' AND attname IN"
            " ('probabilities', 'content_id', 'reason')"
        )
        analysed = {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "SELECT attname, attstattarget FROM pg_attribute WHERE attrelid = 'predictions_prediction'::regclass"
            " AND attname IN ('probabilities', 'text_hash', 'content_id')"
        )
        targets = dict(cursor.fetchall())

    assert analysed == {"content_id", "reason"}
    assert targets["probabilities"] == targets["text_hash"] == 0 and targets["content_id"] != 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
@pytest.mark.django_db(transaction=True)
def test_a_table_another_process_is_analysing_is_left_to_it():
    import psycopg

    from common.table_statistics import ANALYZE_LOCK

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE labeling_content")
        _insert_items(cursor, "busy", 1500)
    before = _last_analyzed()
    # Another worker is analysing the table (it holds the lock analyze_when_stale takes around its ANALYZE).
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s, 'labeling_content'::regclass::oid::integer)", [ANALYZE_LOCK])

        assert analyze_when_stale(Content) is False
        assert _last_analyzed() == before
    assert analyze_when_stale(Content) is True  # the other one ended without analysing: now this one does


@pytest.mark.django_db
def test_json_encoded_once_is_written_as_the_dict_it_was_made_of(tags):
    import json

    from common.bulk_update import EncodedJson, json_text, update_by_pk

    items = [make_content(title=f"item {n}") for n in range(3)]
    made = [{"mlops": 0.25, "other": 0.75}, {'é "quoted"': 1e-07, "n": None}, {}]
    encoded = [EncodedJson(data) for data in made]
    assert [json_text(value) for value in encoded] == [json.dumps(data) for data in made]
    assert encoded == made and all(isinstance(value, dict) for value in encoded)

    rows = [{"pk": item.pk, "current_probabilities": value} for item, value in zip(items, encoded)]
    assert update_by_pk(Content, rows, ["current_probabilities"]) == 3
    stored = dict(Content.objects.filter(pk__in=[i.pk for i in items]).values_list("pk", "current_probabilities"))
    assert [stored[item.pk] for item in items] == made


def _float_dicts_crafted() -> list[dict]:
    return [
        {"computer-vision": 0.25, "mlops": 0.75},
        {"computer-vision": 1e-06, "mlops": 0.999999},
        {"computer-vision": 5e-324, "mlops": 1.0},
        {"computer-vision": 0.0, "mlops": -0.0},
        {"computer-vision": 0.1, "mlops": 0.2},
        {"mlops": 0.5, "computer-vision": 0.5},  # other key order: json.dumps
        {"computer-vision": 0.5},  # fewer keys
        {"computer-vision": float("nan"), "mlops": 0.5},  # not finite: JSON's NaN
        {"computer-vision": float("inf"), "mlops": 0.5},
        {"computer-vision": 1e308, "mlops": 1e308},  # finite, but their sum is not: json.dumps too
        {"computer-vision": 1, "mlops": 0},
        {},
    ]


def test_json_of_float_rows_is_what_json_dumps_makes():
    import json

    from common.bulk_update import EncodedJson

    made = _float_dicts_crafted()
    keys = ["computer-vision", "mlops"]
    # Rows of one key list (a re-prediction chunk's), crafted values included: not finite, sums that overflow, ints.
    rows = [[data["computer-vision"], data["mlops"]] for data in made if set(data) == set(keys)]
    odd_keys = ['é "quoted"\n', "b"]
    for keys_, rows_ in [(keys, rows), (odd_keys, [[0.5, 0.25], [0.125, 0.875]])]:
        from_rows = EncodedJson.of_rows(keys_, rows_)
        expected = [dict(zip(keys_, row)) for row in rows_]
        assert [dict(value) for value in from_rows] == expected
        assert [value.text for value in from_rows] == [json.dumps(data) for data in expected]
    assert len(rows) == 10
    assert EncodedJson.of_rows(keys, []) == []


def test_json_of_a_trained_models_probabilities_on_the_dataset_is_what_json_dumps_makes():
    import json

    from common.bulk_update import EncodedJson
    from ml.dataset import read_dataset_rows
    from ml.prediction import predict, predict_rows
    from ml.text import prepare_text
    from ml.training import train_model

    rows = read_dataset_rows(REPO / "data" / "madewithml_dataset.csv")
    texts = [prepare_text(r.item.title, r.item.description) for r in rows]
    model = train_model(texts=texts, labels=[r.item.tag for r in rows], algorithm="tfidf-linear")
    made = [result.probabilities for result in predict(model, texts)]
    assert len(made) > 500
    answers = predict_rows(model, texts)
    assert [value.text for value in EncodedJson.of_rows(answers.labels, answers.rows)] == [
        json.dumps(data) for data in made
    ]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's; elsewhere bulk_create inserts")
def test_rows_by_copy_are_the_rows_insert_writes_and_a_conflict_falls_back_whole(tags):
    from django.db import transaction

    from common.bulk_update import insert_rows
    from labeling.services.review_queue import _NewTask

    items = [make_content(title=f"item {n}") for n in range(4)]
    probabilities = EncodedJson({"mlops": 0.25, "other \u00e9": 0.75})
    columns = [field.attname for field in ReviewTask._meta.concrete_fields if field.attname != "id"]
    now = timezone.now()

    def tasks(reason: str, content: list) -> list:
        return [_NewTask(item.pk, reason, 2.5, 1, 7, "mlops", probabilities, now) for item in content]

    def written() -> list[tuple]:
        return list(ReviewTask.objects.order_by("content_id", "reason").values_list(*columns))

    with CaptureQueriesContext(connection) as queries:
        assert insert_rows(ReviewTask, tasks("low_confidence", items[:2]), conflicts_rare=True) == 2
    by_copy = written()
    with transaction.atomic():
        ReviewTask.objects.all().delete()
        insert_rows(ReviewTask, tasks("low_confidence", items[:2]))
        by_insert = written()
        transaction.set_rollback(True)
    assert [row[1:] for row in by_copy] == [row[1:] for row in by_insert] and len(by_copy) == 2
    assert by_copy[0][columns.index("probabilities")] == {"mlops": 0.25, "other \u00e9": 0.75}
    assert any(query["sql"].startswith('COPY "labeling_reviewtask"') for query in queries.captured_queries)

    # items[1] has an open task of the reason already (a concurrent worker's): the COPY fails as a whole, and the
    # rows are inserted the other way, the conflicting one skipped. Nothing of the failed COPY stays.
    assert insert_rows(ReviewTask, tasks("low_confidence", items[1:]), conflicts_rare=True) == 2
    assert sorted(ReviewTask.objects.values_list("content_id", flat=True)) == [item.pk for item in items]
