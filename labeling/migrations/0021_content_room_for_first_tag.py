"""Room on new content pages for every row's first tag: fillfactor 40 (was 50, migration 0016).

An item's first shown tag (at ingestion's prediction or a first promotion) grows its row by ~90 bytes: the tag,
confidence, version and probabilities. A chunk rewrites all the rows of a page in one transaction, so the page must
hold a grown copy of each beside the old one for the rewrite to be in place (HOT, no index touched; migration 0020
took the tag out of the indexes). Half a page held that for ~61% of the rows of a fresh 100,000-item benchmark
(rows of ~284 bytes), 40% for ~89% (docs/benchmarks.md, session 12, tagorder).

Only new pages take it: the rows already there have had their first tag (a later one does not grow them), so no
rewrite of the table, and the migration only changes the table's option. New pages are a quarter larger.
"""

from django.db import migrations

FILLFACTOR = 40
BEFORE = 50


def more_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE labeling_content SET (fillfactor = {FILLFACTOR})")


def less_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE labeling_content SET (fillfactor = {BEFORE})")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0020_content_tag_order")]

    operations = [migrations.RunPython(more_room, less_room)]
