"""The public order within a tag in a narrow table of its own, kept by PostgreSQL: shown-tag rewrites can be HOT.

A re-prediction rewrites each item's shown-tag columns. ``current_tag_id`` was the first column of
``content_public_tag_order_idx``, so a rewrite that changed the tag (every item on a first promotion) could not be in
place: PostgreSQL copied the wide row elsewhere and added an entry to every index of the table (the two trigram GIN
indexes of the search included), ~47 us of the server's CPU per item. Now:

- ``labeling_content_tag_order`` holds (content id, tag id, created_on) for every item, untagged ones included, with
  the index (tag_id, created_on DESC, content_id DESC) the public tag filters walk;
- triggers on ``labeling_content`` keep it in the writer's transaction, one statement of theirs per statement of the
  writer's: after an INSERT they copy the inserted rows; after an UPDATE they rewrite the rows whose tag or date
  differs from the updated items' (an UPDATE that changed neither rewrites nothing); a deleted item's row goes with
  it (``ON DELETE CASCADE``). Per statement, not per row: a row trigger running an UPDATE per item cost ~24 us of
  the server's CPU per item on a first promotion, as much as the index entries it saved; this one ~7-11 us, and
  ~0.5-2 us per item when the tag stays (docs/benchmarks.md, session 12). PostgreSQL allows no column list on a
  trigger with transition tables, so every UPDATE of content runs it;
- the content table's own index on its tag goes, so no column a re-prediction writes is in any of its indexes.

Whether a rewrite is in place also needs room on its page: an item's first tag grows its row, and fillfactor 50 holds
a grown copy of every row of a page only for rows long enough (~60% of a first promotion's rewrites on the benchmark's
284-byte rows; all of them in the benchmark's later rounds, on rows that had grown before).

The existing items are copied under the triggers' lock, in the migration's transaction (writers wait until it ends:
38 s at a million items on a loaded machine). PostgreSQL only: on SQLite the table is made but stays empty, and the
selectors read content itself. Reversing makes the old index again.
"""

from django.db import migrations, models

KEEP = """
CREATE OR REPLACE FUNCTION labeling_content_tag_order_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO labeling_content_tag_order (content_id, tag_id, created_on)
    SELECT id, current_tag_id, created_on FROM new_rows;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION labeling_content_tag_order_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE labeling_content_tag_order AS kept SET tag_id = new_rows.current_tag_id, created_on = new_rows.created_on
    FROM new_rows
    WHERE kept.content_id = new_rows.id
      AND (kept.tag_id IS DISTINCT FROM new_rows.current_tag_id OR kept.created_on IS DISTINCT FROM new_rows.created_on);
    RETURN NULL;
END $$;
CREATE TRIGGER content_tag_order_inserted AFTER INSERT ON labeling_content REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION labeling_content_tag_order_inserted();
CREATE TRIGGER content_tag_order_updated AFTER UPDATE ON labeling_content REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION labeling_content_tag_order_updated();
ALTER TABLE labeling_content_tag_order ADD CONSTRAINT content_tag_order_content_fk
    FOREIGN KEY (content_id) REFERENCES labeling_content (id) ON DELETE CASCADE;
LOCK TABLE labeling_content IN SHARE MODE;
INSERT INTO labeling_content_tag_order (content_id, tag_id, created_on)
    SELECT id, current_tag_id, created_on FROM labeling_content;
"""
UNKEEP = """
DROP TRIGGER IF EXISTS content_tag_order_inserted ON labeling_content;
DROP TRIGGER IF EXISTS content_tag_order_updated ON labeling_content;
DROP FUNCTION IF EXISTS labeling_content_tag_order_inserted();
DROP FUNCTION IF EXISTS labeling_content_tag_order_updated();
ALTER TABLE labeling_content_tag_order DROP CONSTRAINT IF EXISTS content_tag_order_content_fk;
"""


def keep(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(KEEP)


def unkeep(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNKEEP)


class Migration(migrations.Migration):
    dependencies = [("labeling", "0019_content_fewer_indexes")]

    operations = [
        migrations.CreateModel(
            name="ContentTagOrder",
            fields=[
                (
                    "content",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="tag_order",
                        serialize=False,
                        to="labeling.content",
                    ),
                ),
                ("created_on", models.DateTimeField(null=True)),
                (
                    "tag",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.DO_NOTHING,
                        related_name="+",
                        to="labeling.tag",
                    ),
                ),
            ],
            options={"db_table": "labeling_content_tag_order"},
        ),
        migrations.RunPython(keep, unkeep),
        # After the copy: one sort instead of a million insertions.
        migrations.AddIndex(
            model_name="contenttagorder",
            index=models.Index(fields=["tag", "-created_on", "-content"], name="content_tag_order_idx"),
        ),
        migrations.RemoveIndex(model_name="content", name="content_public_tag_order_idx"),
    ]
