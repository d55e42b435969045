"""The shown tag rewritten in place: room on every content page, and the tag in one index instead of two.

A re-prediction after a promotion rewrites each item's shown-tag columns. A content row is wide (title,
description) and carries eleven indexes, two of them trigram GIN indexes of the public search; each rewrite was a
new row version elsewhere in the table with an entry in every index, 90-300 us per row, more than the model.
PostgreSQL rewrites a row in place (a HOT update: no index touched) when no indexed column changed and the page
has room for the new version. So:

- the foreign key's own index on ``current_tag`` goes: ``content_public_tag_order_idx`` starts with the same
  column and serves the foreign key's checks and the tag filter;
- the table keeps half of each page free (fillfactor 50): all rows of a page belong to the same 2,000-item chunk,
  which rewrites them in one transaction, so the page needs room for a new version of every row on it;
- ``VACUUM FULL`` rewrites the rows already there with that room (it locks the table while it runs: about a
  minute for a million items, see docs/benchmarks.md). No data changes; reversing drops the room again.
"""

from django.db import migrations, models

FILLFACTOR = 50


def make_room(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE labeling_content SET (fillfactor = {FILLFACTOR})")
    schema_editor.execute("VACUUM FULL labeling_content")


def remove_room(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE labeling_content RESET (fillfactor)")
    schema_editor.execute("VACUUM FULL labeling_content")


class Migration(migrations.Migration):
    # VACUUM cannot run inside a transaction.
    atomic = False

    dependencies = [("labeling", "0015_review_queue_counts")]

    operations = [
        migrations.AlterField(
            model_name="content",
            name="current_tag",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="labeling.tag",
            ),
        ),
        migrations.RunPython(make_room, remove_room),
    ]
