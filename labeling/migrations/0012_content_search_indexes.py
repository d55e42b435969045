"""Indexes for the public list: its order (alone and within a tag), and its search.

The search is ``icontains`` (``UPPER(col) LIKE UPPER('%q%')`` on PostgreSQL), which no
B-tree serves; trigram GIN indexes on the same expressions do. They need the pg_trgm
extension (trusted since PostgreSQL 13: a database owner may create it). Where it cannot
be created, or on SQLite, the search still works, by a scan.
"""

import logging

from django.db import DatabaseError, migrations, models, transaction

log = logging.getLogger(__name__)

INDEXES = {
    "content_title_trgm": "UPPER(title::text)",
    "content_description_trgm": "UPPER(description::text)",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        log.warning("pg_trgm unavailable (%s): the content search works without its indexes, by a scan", error)
        return
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON labeling_content USING gin (({expression}) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0011_tag_guidelines_and_answer_note")]

    operations = [
        migrations.AddIndex(
            model_name="content",
            index=models.Index(fields=["-created_on", "-id"], name="content_public_order_idx"),
        ),
        migrations.AddIndex(
            model_name="content",
            index=models.Index(fields=["current_tag", "-created_on", "-id"], name="content_public_tag_order_idx"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
