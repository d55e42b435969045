"""The tag-order trigger looks the updated items up by key (migration labeling 0022).

Left to the planner, the trigger joined a bulk UPDATE's 1,000 rows to the whole tag-order table, read into a hash once
per statement, as soon as the table's statistics said how big it was: the cost of every content write grew with the
number of items. Here the tables are analyzed (as autovacuum would) before a bulk write; the trigger must read the
table by key (PostgreSQL's counters of this transaction) and keep it equal to content.
"""

import pytest
from django.db import connection

from labeling.models import Content, ContentTagOrder, Tag
from labeling.services import text_hash

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers and planner"),
]

ITEMS, WRITTEN = 4000, 1000


@pytest.fixture
def items(tags) -> list[int]:
    Content.objects.bulk_create(
        Content(
            source="plans",
            external_id=str(n),
            title=f"Item {n}",
            description="A note.",
            text_hash=text_hash(f"Item {n}", "A note."),
        )
        for n in range(ITEMS)
    )
    ids = list(Content.objects.filter(source="plans").order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        # What autovacuum does; it also drops the plans this connection's triggers cached while the tables were small.
        cursor.execute("ANALYZE labeling_content, labeling_content_tag_order")
    return ids


def _tag_order_read_whole() -> int:
    """How many times this transaction read the tag-order table whole (sequential scans)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'labeling_content_tag_order'")
        return cursor.fetchone()[0]


def test_a_bulk_tag_change_looks_the_tag_order_up_by_key(items):
    mlops = Tag.objects.get(slug="mlops")
    before = _tag_order_read_whole()
    changed = Content.objects.filter(pk__in=items[:WRITTEN]).update(current_tag=mlops)
    assert changed == WRITTEN
    assert _tag_order_read_whole() == before
    assert set(ContentTagOrder.objects.filter(tag=mlops).values_list("content_id", flat=True)) == set(items[:WRITTEN])
