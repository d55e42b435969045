"""Issue 18: the shown tag rewritten in place when it changes too.

The public order within a tag lives in ``labeling_content_tag_order``, which PostgreSQL's triggers keep equal to the
content table's (id, current_tag_id, created_on) through every way items are written (migration 0020); the content
table has no index on its shown tag, so a first promotion's rewrites are HOT. The public list and the API must answer
the same items in the same order as the plain query on content did.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from labeling import selectors
from labeling.models import Content, ContentTagOrder, GoldLabel, TagOrigin
from labeling.services import PredictionSnapshot, review_answer_undo, review_task_answer, text_hash
from labeling.services.api_tokens import api_token_create
from labeling.services.content import ModelTag, content_show_model_tags, show_gold_tags
from labeling.services.ood import content_flag_out_of_distribution
from predictions.selectors import report_rates
from tests.factories import make_content, make_low_confidence_task

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the table is kept by PostgreSQL triggers"),
]

WHEN = datetime(2024, 3, 1, tzinfo=UTC)


def _kept() -> set[tuple]:
    return set(ContentTagOrder.objects.values_list("content_id", "tag_id", "created_on"))


def _content() -> set[tuple]:
    return set(Content.objects.values_list("pk", "current_tag_id", "created_on"))


def _assert_kept():
    assert _kept() == _content()


def _model_tag(item: Content, tag, version: int = 1, confidence: float = 0.9) -> ModelTag:
    return ModelTag(
        content_id=item.pk,
        tag_id=tag.pk,
        confidence=confidence,
        model_version=version,
        probabilities={tag.slug: confidence, "other": round(1 - confidence, 6)},
    )


def test_every_writer_keeps_the_table_equal_to_content(tags, annotator):
    first = make_content(title="one", created_on=WHEN)
    second = make_content(title="two", current_tag=tags["mlops"], current_tag_origin=TagOrigin.MODEL)
    _assert_kept()
    # bulk_create: one statement, many rows.
    bulk = Content.objects.bulk_create(
        Content(source="bulk", external_id=str(i), title=f"bulk {i}", text_hash=text_hash(f"bulk {i}", ""))
        for i in range(5)
    )
    _assert_kept()
    # A re-prediction: first tags, then a changed one, then the same again (no change).
    content_show_model_tags(model_tags=[_model_tag(item, tags["other"]) for item in [first, *bulk]])
    _assert_kept()
    content_show_model_tags(model_tags=[_model_tag(bulk[0], tags["computer-vision"], version=2)])
    content_show_model_tags(model_tags=[_model_tag(bulk[1], tags["other"], version=2)])
    _assert_kept()
    # Dates: a queryset update and a save; a save that changes neither still keeps it.
    Content.objects.filter(pk=bulk[2].pk).update(created_on=WHEN - timedelta(days=3))
    second.created_on = WHEN + timedelta(days=1)
    second.save()
    second.title = "two, renamed"
    second.save()
    _assert_kept()
    # Gold tags, and raw SQL.
    show_gold_tags([(first.pk, tags["natural-language-processing"].pk)])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE labeling_content SET current_tag_id = NULL WHERE id = %s", [bulk[3].pk])
    _assert_kept()
    # An out-of-distribution flag takes the model tag away.
    snapshot = PredictionSnapshot(model_version=2, predicted_tag="other", probabilities={"other": 0.5}, confidence=0.5)
    content_flag_out_of_distribution(flagged=[(bulk[4].pk, {"length": "too short"}, snapshot)])
    assert Content.objects.get(pk=bulk[4].pk).current_tag_id is None
    _assert_kept()
    # Deletes: one item, and a queryset.
    first.delete()
    Content.objects.filter(source="bulk", external_id__in=["0", "1"]).delete()
    _assert_kept()
    assert ContentTagOrder.objects.count() == Content.objects.count() == 4


def test_an_answer_and_its_undo_keep_the_table(tags, annotator):
    task = make_low_confidence_task()
    content_show_model_tags(model_tags=[_model_tag(task.content, tags["mlops"], confidence=0.4)])
    before = _kept()
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["computer-vision"])
    assert GoldLabel.objects.get(content=task.content).tag == tags["computer-vision"]
    assert ContentTagOrder.objects.get(pk=task.content_id).tag == tags["computer-vision"]
    _assert_kept()
    review_answer_undo(user=annotator)
    assert _kept() == before == _content()
    assert ContentTagOrder.objects.get(pk=task.content_id).tag == tags["mlops"]


def _hot_updates() -> tuple[int, int]:
    """This transaction's updates of content so far, and how many of them were in place (HOT)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'labeling_content'"
        )
        return cursor.fetchone()


def _indexed_columns(table: str) -> set[str]:
    """Every column some index of ``table`` covers: its keys, expressions and conditions (what stops a HOT update)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum > 0"
            " WHERE i.indrelid = %s::regclass AND (a.attnum = ANY(i.indkey)"
            " OR pg_get_expr(i.indexprs, i.indrelid) ~ ('\\m' || a.attname || '\\M')"
            " OR pg_get_expr(i.indpred, i.indrelid) ~ ('\\m' || a.attname || '\\M'))",
            [table],
        )
        return {name for (name,) in cursor.fetchall()}


def test_no_index_of_content_covers_what_a_re_prediction_writes():
    written = {"current_tag_id", "current_tag_origin", "current_tag_confidence", "current_model_version"}
    assert _indexed_columns("labeling_content") & (written | {"current_probabilities"}) == set()
    assert {"title", "description", "created_on", "is_out_of_distribution"} <= _indexed_columns("labeling_content")


def test_a_first_promotion_rewrites_every_item_in_place(tags):
    """Items of a long description (~1,500 characters): the room each page keeps free (fillfactor 40) holds a new
    version of every row on it, grown by the tag, confidence and probabilities."""
    items = Content.objects.bulk_create(
        Content(
            source="hot",
            external_id=str(i),
            title=f"Item {i} about models",
            description=" ".join(f"word{i * 7919 + k}" for k in range(150)),
            text_hash=text_hash(f"Item {i}", ""),
            created_on=WHEN + timedelta(minutes=i),
        )
        for i in range(100)
    )
    updated, hot = _hot_updates()
    # No tag shown yet: every item's tag changes (NULL -> a tag), probabilities and all.
    assert content_show_model_tags(model_tags=[_model_tag(item, tags["mlops"]) for item in items]) == 100
    assert _hot_updates() == (updated + 100, hot + 100)
    _assert_kept()


def test_a_first_promotion_rewrites_short_items_in_place_too(tags):
    """Items as long as the dataset's (~140 characters of title and description) grow by a third at their first
    tag: the 60% of each page that fillfactor 40 keeps free (migration 0021) holds a grown copy of every row; at 50,
    ~40% of these rewrites went elsewhere (docs/benchmarks.md, session 12)."""
    items = _dataset_length_items("hot-short")
    updated, hot = _hot_updates()
    assert content_show_model_tags(model_tags=[_model_tag(item, tags["mlops"]) for item in items]) == 300
    assert _hot_updates() == (updated + 300, hot + 300)
    _assert_kept()


def _dataset_length_items(source: str, count: int = 300) -> list[Content]:
    return Content.objects.bulk_create(
        Content(
            source=source,
            external_id=str(i),
            title=f"Item {i}: a transformer for tagging",
            description=f"We fine-tune a small model on {i} labelled examples and report accuracy per class.",
            text_hash=text_hash(f"Item {i}", "short"),
            created_on=WHEN + timedelta(minutes=i),
        )
        for i in range(count)
    )


def _four_class_tag(item: Content, tag, version: int) -> ModelTag:
    """A shown tag as a model writes it: four classes' probabilities of six digits (~136 bytes of jsonb)."""
    probabilities = {
        "mlops": 0.812345,
        "other": 0.102345,
        "computer-vision": 0.052345,
        "natural-language-processing": 0.032965,
    }
    return ModelTag(item.pk, tag.pk, probabilities[tag.slug], version, probabilities)


@pytest.mark.django_db(transaction=True)
def test_every_later_promotion_rewrites_short_items_in_place_too(tags):
    """Once tagged, a short item's row keeps its grown size on its page, and the next promotion's chunk rewrites every
    row of the page in one transaction: the page must hold a second grown copy of each. At fillfactor 40 about a third
    of these rewrites went elsewhere; at 30 (migration 0023) none."""
    items = _dataset_length_items("hot-later")
    assert content_show_model_tags(model_tags=[_four_class_tag(item, tags["mlops"], 1) for item in items]) == 300
    with connection.cursor() as cursor:
        cursor.execute("VACUUM labeling_content")  # as autovacuum would between two promotions
    with transaction.atomic():
        updated, hot = _hot_updates()
        answers = [_four_class_tag(item, tags["mlops"], 2) for item in items]
        assert content_show_model_tags(model_tags=answers) == 300
        assert _hot_updates() == (updated + 300, hot + 300)
    _assert_kept()


def _items_for_the_lists(tags) -> list[Content]:
    """Tags, no tag, equal dates (the id breaks the tie), no date (first, as DESC puts NULLs)."""
    cycle = [tags["mlops"], None, tags["other"], tags["mlops"]]
    items = []
    for i in range(40):
        tag = cycle[i % len(cycle)]
        created_on = None if i % 13 == 0 else WHEN + timedelta(hours=i // 3)
        items.append(
            make_content(
                title=f"{'kubernetes ' if i % 5 == 0 else ''}item {i}",
                created_on=created_on,
                current_tag=tag,
                current_tag_origin=TagOrigin.MODEL if tag else TagOrigin.NONE,
            )
        )
    return items


def test_the_public_list_gives_the_plain_querys_items_in_its_order(tags, client):
    _items_for_the_lists(tags)
    plain = Content.objects.order_by("-created_on", "-pk")
    for q in ["", "kubernetes"]:
        searched = plain.filter(title__icontains=q) if q else plain
        for tag, expected in [
            ("mlops", searched.filter(current_tag__slug="mlops")),
            ("other", searched.filter(current_tag__slug="other")),
            ("computer-vision", searched.none()),
            ("untagged", searched.filter(current_tag__isnull=True)),
            ("", searched),
        ]:
            ids = list(expected.values_list("pk", flat=True))
            assert list(selectors.content_public_list(q=q, tag=tag).values_list("pk", flat=True)) == ids, (q, tag)
            assert selectors.content_public_list(q=q, tag=tag).count() == len(ids)
    response = client.get(reverse("labeling:content-list") + "?tag=mlops")
    expected = list(plain.filter(current_tag__slug="mlops").values_list("pk", flat=True))
    assert [item.pk for item in response.context["page"].object_list] == expected
    assert response.context["page"].paginator.count == len(expected)


def test_the_api_tag_filter_gives_the_plain_querys_items(tags, annotator):
    _items_for_the_lists(tags)
    _, key = api_token_create(user=annotator, name="tests")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    for slug in ["mlops", "other", "computer-vision", "no-such-tag"]:
        expected = list(Content.objects.filter(current_tag__slug=slug).order_by("-pk").values_list("pk", flat=True))
        ids, url = [], f"/api/v1/content?tag={slug}&page_size=7"
        while url:
            body = client.get(url).json()
            ids += [row["id"] for row in body["results"]]
            url = body["next"]
        assert ids == expected, slug


def test_report_rates_count_the_shown_tags(tags):
    _items_for_the_lists(tags)
    by_tag = {row["name"]: row for row in report_rates()["by_tag"]}
    assert set(by_tag) == {"mlops", "other"}
    assert [by_tag[slug]["shown"] for slug in ["mlops", "other"]] == [
        Content.objects.filter(current_tag__slug=slug).count() for slug in ["mlops", "other"]
    ]


@contextmanager
def _migrated_back_to(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    try:
        yield
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_table_and_reverses(tags):
    with _migrated_back_to(("labeling", "0019_content_fewer_indexes")):
        assert "current_tag_id" in _indexed_columns("labeling_content")
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('labeling_content_tag_order')")
            assert cursor.fetchone() == (None,)
        make_content(title="before", created_on=WHEN, current_tag=tags["mlops"])
        make_content(title="before, untagged")
    assert "current_tag_id" not in _indexed_columns("labeling_content")
    _assert_kept()
    assert ContentTagOrder.objects.count() == 2
    make_content(title="after", current_tag=tags["other"])
    _assert_kept()


def test_every_page_of_a_tag_is_the_plain_querys_slice(tags, client):
    tagged = Content.objects.bulk_create(
        Content(
            source="pages",
            external_id=str(i),
            title=f"page item {i}",
            text_hash=text_hash(f"page item {i}", ""),
            created_on=None if i % 17 == 0 else WHEN + timedelta(hours=i // 4),
            current_tag=tags["mlops"] if i % 3 else None,
        )
        for i in range(160)
    )
    assert len(tagged) == 160
    plain = Content.objects.order_by("-created_on", "-pk")
    for tag, rows in [("mlops", plain.filter(current_tag__slug="mlops")), ("untagged", plain.filter(current_tag=None))]:
        expected = list(rows.values_list("pk", flat=True))
        shown = []
        for number in range(1, 4):
            page = client.get(reverse("labeling:content-list"), {"tag": tag, "page": number}).context["page"]
            assert page.paginator.count == len(expected)
            shown += [item.pk for item in page.object_list] if page.number == number else []
        assert shown == expected, tag
