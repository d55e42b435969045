"""Set a few columns on many rows by primary key, in one statement on PostgreSQL.

Re-predicting after a promotion rewrites the shown tag of every item and the
rank of every open review task, 500 rows per chunk.  The ORM's ways are the
bottleneck there: ``bulk_update`` builds a CASE per column with a branch per
row, and an upsert (``bulk_create(update_conflicts=True)``) needs whole rows,
so it reads every column (descriptions included) only to write it back.  On
PostgreSQL this sends one array per column instead::

    UPDATE t SET a = v.a, ... FROM unnest(%s::type[], ...) AS v(pk, a, ...) WHERE t.pk = v.pk

Rows deleted in the meantime are skipped, as an UPDATE skips them.  Other
databases (SQLite in development) take ``bulk_update``.
"""

import json

from django.db import connection, models

BATCH_SIZE = 1000  # rows per statement, for every bulk write of the labelling side


def update_by_pk(model: type[models.Model], rows: list[dict], fields: list[str]) -> int:
    """Set ``fields`` on each row's ``pk``; ``rows`` are dicts of "pk" and those fields.

    Name a foreign key by its column attribute ("tag_id") and give the related pk.

    Returns how many rows were updated.
    """
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        instances = [model(pk=row["pk"], **{name: row[name] for name in fields}) for row in rows]
        return model.objects.bulk_update(instances, fields, batch_size=BATCH_SIZE)
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    names = [quote(column.column) for column in columns]
    arrays = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
    assignments = ", ".join(f"{name} = new.{name}" for name in names[1:])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS old SET {assignments} "
        f"FROM unnest({arrays}) AS new({', '.join(names)}) WHERE old.{names[0]} = new.{names[0]}"
    )
    keys = ["pk", *fields]
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            cursor.execute(sql, [[_db_value(column, row[key]) for row in batch] for column, key in zip(columns, keys)])
            updated += cursor.rowcount
    return updated


def _db_value(field: models.Field, value):
    # JSON goes as text and is cast to jsonb by the array's type; a list of
    # psycopg Jsonb wrappers would not adapt to jsonb[].
    if isinstance(field, models.JSONField):
        return None if value is None else json.dumps(value, cls=field.encoder)
    return field.get_db_prep_value(value, connection)
