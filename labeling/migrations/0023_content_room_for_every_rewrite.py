"""Room on new content pages for a rewrite of every grown row: fillfactor 30 (was 40, migration 0021).

Migration 0021 left room for an item's first tag, which grows its row by ~90 bytes (the tag, confidence, version and
probabilities): the first promotion's rewrites were in place. But a row keeps its grown size on its page, and every
later promotion rewrites it again: a chunk rewrites all the rows of a page in one transaction, and the old versions
can only be cleared once it commits, so the page must hold a second copy of every grown row. Items as short as the
dataset's (~140 bytes of title and description, ~280-byte rows, ~370 once tagged) filled 40% of a page and grew to
~53%: about a third of a second promotion's rewrites found no room and went elsewhere (107 of 300 in the test), with
an entry in each of content's indexes (the two trigram GIN indexes included). At 30 they grow to ~40%, and all but 0.5% of both
promotions' 200,000 rewrites were in place (docs/benchmarks.md, session 13).

Only new pages take it, as with 0021: no rewrite of the table. New pages are a third larger than at 40.
"""

from django.db import migrations

FILLFACTOR = 30
BEFORE = 40


def more_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE labeling_content SET (fillfactor = {FILLFACTOR})")


def less_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE labeling_content SET (fillfactor = {BEFORE})")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0022_triggers_probe_by_key")]

    operations = [migrations.RunPython(more_room, less_room)]
