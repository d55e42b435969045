"""Bulk writes in one statement per batch on PostgreSQL: set columns by primary key, insert or upsert rows.

Re-predicting after a promotion rewrites the shown tag of every item and the
rank of every open review task, 500 rows per chunk.  The ORM's ways are the
bottleneck there: ``bulk_update`` builds a CASE per column with a branch per
row, and an upsert (``bulk_create(update_conflicts=True)``) needs whole rows,
so it reads every column (descriptions included) only to write it back.  On
PostgreSQL this sends one array per column instead::

    UPDATE t SET a = v.a, ... FROM unnest(%s::type[], ...) AS v(pk, a, ...) WHERE t.pk = v.pk

Rows deleted in the meantime are skipped, as an UPDATE skips them.  Other
databases (SQLite in development) take ``bulk_update``.

Inserts (``insert_rows``) go the same way, ``INSERT … SELECT * FROM unnest(…)``, with
``ON CONFLICT`` doing nothing or updating named columns: ``bulk_create`` builds a
placeholder per value and psycopg then quotes every value into the query text.

The arrays are sent as bound parameters in binary (``bound_cursor`` and ``%b``), not
quoted into the query text by the client as Django's cursors do: building that text
was a fifth of a re-prediction chunk's time, and 2,000 rows of predictions go 5x faster.
"""

import json
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models.fields import AutoFieldMixin
from psycopg.adapt import Buffer, Dumper
from psycopg.postgres import types as postgres_types
from psycopg.pq import Format

from common.pg_arrays import numbers_array

BATCH_SIZE = 1000  # rows per statement, for every bulk write of the labelling side


def takes_sql_conditions() -> bool:
    """Whether ``update_by_pk(only_if=...)`` is available (PostgreSQL)."""
    return connection.vendor == "postgresql"


def update_by_pk(
    model: type[models.Model], rows: list[dict], fields: list[str], *, only_if: str = "", only_changed: bool = False
) -> int:
    """Set ``fields`` on each row's ``pk``; ``rows`` are dicts of "pk" and those fields.

    Name a foreign key by its column attribute ("tag_id") and give the related pk.
    ``only_if``: an SQL condition on the row as it is (table alias ``old``) that a row must
    meet to be updated, so the caller need not read the rows first; PostgreSQL only.
    ``only_changed``: leave alone the rows whose fields already hold these values (on
    PostgreSQL an UPDATE writes a new row version even when nothing changes).

    Returns how many rows were updated.
    """
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        if only_if or only_changed:
            raise ValueError("update_by_pk(only_if=..., only_changed=...) is for PostgreSQL; filter the rows first")
        instances = [model(pk=row["pk"], **{name: row[name] for name in fields}) for row in rows]
        return model.objects.bulk_update(instances, fields, batch_size=BATCH_SIZE)
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    names = [quote(column.column) for column in columns]
    arrays = ", ".join(f"%b::{column.db_type(connection)}[]" for column in columns)
    assignments = ", ".join(f"{name} = new.{name}" for name in names[1:])
    conditions = [f"old.{names[0]} = new.{names[0]}", *([f"({only_if})"] if only_if else [])]
    if only_changed:
        old_values, new_values = (", ".join(f"{alias}.{name}" for name in names[1:]) for alias in ("old", "new"))
        conditions.append(f"ROW({old_values}) IS DISTINCT FROM ROW({new_values})")
    sql = (
        f"UPDATE {quote(meta.db_table)} AS old SET {assignments} "
        f"FROM unnest({arrays}) AS new({', '.join(names)}) WHERE {' AND '.join(conditions)}"
    )
    keys = ["pk", *fields]
    converters = [_converter(column) for column in columns]
    updated = 0
    with bound_cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            cursor.execute(
                sql, [numbers_array([to_db(row[key]) for row in batch]) for to_db, key in zip(converters, keys)]
            )
            updated += cursor.rowcount
    return updated


def insert_rows(
    model: type[models.Model],
    rows: list,
    *,
    update_conflicts: tuple[list[str], list[str]] | None = None,
    conflicts_rare: bool = False,
) -> int:
    """Insert ``rows`` into ``model``'s table; rows that break a unique constraint are skipped.

    A row is an unsaved instance, or any object with an attribute per column (named as the
    field's ``attname``, "tag_id"): bulk work need not build an ORM object per row.
    ``update_conflicts`` = (unique fields, fields to update) makes it an upsert on that
    constraint instead. Primary keys are not set on the rows. Returns how many rows were
    inserted or updated (on other databases: how many were given).

    ``conflicts_rare``: the caller has left out the rows it knows to conflict, so the rows go by ``COPY`` (see
    ``_copy_rows``); should one conflict all the same (a concurrent writer), they are inserted as above instead.
    """
    if not rows:
        return 0
    columns = [field for field in model._meta.concrete_fields if not isinstance(field, AutoFieldMixin)]
    if conflicts_rare and connection.vendor == "postgresql" and not any(isinstance(row, models.Model) for row in rows):
        try:
            # A savepoint: a conflict fails the COPY, and only it is undone.
            with transaction.atomic():
                return _copy_rows(model, columns, rows)
        except IntegrityError as error:
            if getattr(error.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
                raise
    if connection.vendor != "postgresql":
        unique, update = update_conflicts or (None, None)
        model.objects.bulk_create(
            [_instance(model, columns, row) for row in rows],
            batch_size=BATCH_SIZE,
            ignore_conflicts=update_conflicts is None,
            update_conflicts=update_conflicts is not None,
            unique_fields=unique,
            update_fields=update,
        )
        return len(rows)
    sql = _insert_sql(model, columns, update_conflicts)
    converters = [_converter(column) for column in columns]
    written = 0
    with bound_cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            read = _saved_values if any(isinstance(row, models.Model) for row in batch) else _attribute_values
            cursor.execute(
                sql,
                [numbers_array(list(map(to_db, read(column, batch)))) for column, to_db in zip(columns, converters)],
            )
            written += cursor.rowcount
    return written


def _copy_rows(model: type[models.Model], columns: list, rows: list) -> int:
    """Insert ``rows`` (objects with an attribute per column) with one binary ``COPY``; a conflict raises.

    Against ``INSERT ... SELECT FROM unnest(...)`` of the same 10,000 prediction rows: 6.0 us of PostgreSQL's CPU
    per row instead of 9.5, and 1.5 us of the client's instead of 2.6 (docs/benchmarks.md, "Re-prediction: new rows
    by COPY and the chunk's fixed costs"). It cannot skip or update a conflicting row: the whole COPY fails instead.
    """
    quote = connection.ops.quote_name
    names = ", ".join(quote(column.column) for column in columns)
    converters = [_converter(column) for column in columns]
    values = [list(map(to_db, _attribute_values(column, rows))) for column, to_db in zip(columns, converters)]
    statement = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor:
        if connection.queries_logged:  # as Django logs its queries (tests count them)
            connection.queries_log.append({"sql": statement, "time": "0.000"})
        cursor.cursor.adapters.register_dumper(None, _JsonTextDumper)  # this cursor's COPY only
        with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:  # errors as Django's
            copy.set_types([_copy_type(column) for column in columns])
            for row in zip(*values):
                copy.write_row(row)
    return len(rows)


class _JsonTextDumper(Dumper):
    """A JSON column's value in a binary COPY, from the JSON text ``_converter`` made: jsonb's version byte, the text.

    psycopg's own dumper would encode the value again, a text as a JSON string.
    """

    format = Format.BINARY
    oid = postgres_types["jsonb"].oid

    def dump(self, obj: str) -> Buffer:
        return b"\x01" + obj.encode()


def _copy_type(field: models.Field) -> str:
    """The name psycopg knows ``field``'s column type by, for a binary COPY: without a length ("varchar(64)")."""
    return field.db_type(connection).split("(")[0]


def _saved_values(field: models.Field, rows: list) -> list:
    # An instance's pre_save gives what save() would write (auto_now fields included).
    return [field.pre_save(row, True) if isinstance(row, models.Model) else getattr(row, field.attname) for row in rows]


def _attribute_values(field: models.Field, rows: list) -> list:
    # One attrgetter for the column, not a function call per value: the columns of a prediction row read and
    # converted in 2.8 us instead of 3.4.
    return list(map(attrgetter(field.attname), rows))


def _instance(model: type[models.Model], columns: list, row) -> models.Model:
    if isinstance(row, models.Model):
        return row
    return model(**{column.attname: getattr(row, column.attname) for column in columns})


def _insert_sql(model: type[models.Model], columns: list, update_conflicts: tuple[list[str], list[str]] | None) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column.column) for column in columns)
    arrays = ", ".join(f"%b::{column.db_type(connection)}[]" for column in columns)
    if update_conflicts is None:
        conflict = "ON CONFLICT DO NOTHING"
    else:
        unique, update = ([quote(model._meta.get_field(name).column) for name in names_] for names_ in update_conflicts)
        conflict = f"ON CONFLICT ({', '.join(unique)}) DO UPDATE SET " + ", ".join(
            f"{name} = EXCLUDED.{name}" for name in update
        )
    return f"INSERT INTO {quote(model._meta.db_table)} ({names}) SELECT * FROM unnest({arrays}) {conflict}"


@contextmanager
def bound_cursor() -> Iterator:
    """A cursor on Django's connection (and transaction) that sends parameters bound, server side.

    Django's own cursors on psycopg 3 quote every parameter into the query text on the
    client; for arrays of thousands of values that costs more than the statement.
    """
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = ServerBindingCursor(connection.connection)
    # As Django's connection.cursor() does: logged when queries are (tests count them).
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor


# How many times a chunk's statement runs unprepared on a connection before psycopg prepares it (see
# ``parameters_bound``): the second run prepares it, so a text seen once (a savepoint's name) never is.
PREPARE_THRESHOLD = 1
# SQLSTATEs of a statement prepared earlier that the server can no longer run as it is: a schema change altered its
# result's columns ("cached plan must not change result type"), or it is gone ("prepared statement ... does not
# exist": deallocated behind psycopg's back, as a transaction-mode pooler would).
FEATURE_NOT_SUPPORTED, INVALID_STATEMENT_NAME = "0A000", "26000"
UNIQUE_VIOLATION = "23505"


@contextmanager
def parameters_bound(*, prepared: bool = False) -> Iterator[None]:
    """Within it, every query of this thread's connection sends its parameters bound, server side.

    For work that filters by thousands of ids (a re-prediction chunk's ``pk__in`` lists): Django
    quotes each one into the query text on the client, which cost a tenth of such a chunk.
    Django supports this mode as the ``server_side_binding`` option; it is not switched on for
    every query because a few query shapes need it off, and only bulk work gains from it.

    ``prepared``: a statement run a second time within such blocks on the same connection is prepared
    server side (psycopg's ``prepare_threshold``), and later runs are not planned again. Django turns
    psycopg's prepared statements off (for connection poolers); a worker keeps its connection from chunk to
    chunk, and a chunk runs the same ~20 statements, so each is planned once per connection, not per chunk.
    Queries outside the block are never prepared, nor run as prepared; the prepared ones stay on the
    connection (at most psycopg's ``prepared_max``, 100, least recently used out first) for the next block.
    A rollback drops them all (psycopg). See ``stale_prepared_statement`` for a schema change in between.
    Off with ``TAGLOOP_PREPARE_BULK_STATEMENTS`` (behind a transaction-mode pooler) and while queries are logged.
    """
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    previous, threshold = raw.cursor_factory, raw.prepare_threshold
    raw.cursor_factory = ServerBindingCursor
    # Not while queries are logged (DEBUG, tests counting them): psycopg does not keep the text of a query it runs
    # prepared, so Django would log it as None.
    if prepared and threshold is None and settings.TAGLOOP_PREPARE_BULK_STATEMENTS and not connection.queries_logged:
        raw.prepare_threshold = PREPARE_THRESHOLD
    try:
        yield
    except DatabaseError as error:
        if stale_prepared_statement(error) and not connection.in_atomic_block:
            # psycopg still names the statement as prepared (an error outside a transaction drops nothing): a new
            # connection starts with none.
            connection.close()
        raise
    finally:
        if connection.connection is raw:  # the connection may have been closed and replaced meanwhile
            raw.cursor_factory = previous
            raw.prepare_threshold = threshold


def stale_prepared_statement(error: BaseException) -> bool:
    """Whether ``error`` is a prepared statement the server can no longer run as prepared (``parameters_bound``).

    Raised once per statement after a schema change that altered the columns a prepared query returns (a
    migration run while a worker held its connection), or if something deallocated it. The connection is
    closed by ``parameters_bound`` (outside a transaction) or its statements dropped by the rollback (inside):
    the same work, run again, prepares afresh.
    """
    cause = error.__cause__ if isinstance(error, DatabaseError) and error.__cause__ is not None else error
    state = getattr(cause, "sqlstate", None)
    return state == INVALID_STATEMENT_NAME or (state == FEATURE_NOT_SUPPORTED and "cached plan" in str(cause))


class EncodedJson(dict):
    """A dict that carries its JSON text, encoded once when it is made.

    A re-prediction chunk writes each prediction's probabilities to up to three columns (the prediction, the item's
    shown tag, a review task): encoding them once instead of three times was about 6 us of CPU per item. Made for
    values that are not changed afterwards; the text is what ``json.dumps`` makes of the dict as it was given.
    """

    __slots__ = ("text",)

    def __init__(self, data: dict | Iterable[tuple[str, Any]], text: str | None = None):
        super().__init__(data)
        self.text = json.dumps(self) if text is None else text

    @classmethod
    def of_rows(cls, keys: list[str], rows: list[list[float]]) -> list["EncodedJson"]:
        """``EncodedJson`` of ``dict(zip(keys, row))`` for each row of floats (a model's probabilities per tag).

        ``json.dumps`` writes a float as ``repr`` does, so one format string of the keys with a ``%r`` per value makes
        each text, in half the time (a re-prediction chunk encodes thousands). Rows with a value that is not finite
        (JSON's NaN, Infinity) take ``json.dumps``.
        """
        template = "{" + ", ".join(f"{json.dumps(key)}: %r" for key in keys) + "}"
        return [cls(zip(keys, row), template % tuple(row) if math.isfinite(sum(row)) else None) for row in rows]


def json_text(value, encoder: type[json.JSONEncoder] | None = None) -> str:
    """``json.dumps(value, cls=encoder)``, taken from an :class:`EncodedJson` when it carries it."""
    if encoder is None and type(value) is EncodedJson:
        return value.text
    return json.dumps(value, cls=encoder)


def _converter(field: models.Field):
    """The function that turns a Python value of ``field`` into what its binary array takes.

    Chosen once per column: asking the field per value (get_db_prep_value) cost more than
    the statement itself for thousands of rows.
    """
    if isinstance(field, models.JSONField):
        # JSON goes as text and is cast to jsonb by the array's type; a list of
        # psycopg Jsonb wrappers would not adapt to jsonb[].
        return lambda value: None if value is None else json_text(value, field.encoder)
    if isinstance(field, models.FloatField):
        # A binary array is of one type: an int among floats would not dump.
        return lambda value: None if value is None else float(value)
    if isinstance(field, models.DateTimeField):
        # Aware datetimes go as they are; a naive one takes the field's own path (and warning).
        return lambda value: value if value is None or value.tzinfo else field.get_db_prep_value(value, connection)
    return lambda value: (
        value if value is None or type(value) in (int, str, bool) else field.get_db_prep_value(value, connection)
    )
