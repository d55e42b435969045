"""Lists of ints or floats sent as binary arrays made by numpy (common.pg_arrays): the server gets the same values."""

import math

import pytest
from django.db import DataError, connection, transaction
from psycopg.adapt import PyFormat, Transformer

from common.bulk_update import bound_cursor
from common.pg_arrays import FloatArray, IntArray, numbers_array

INTS = [[1], [0, -1, 2, 32767, 32768, -32769, 2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63)], list(range(2000))]
FLOATS = [
    [0.5],
    [0.0, -0.0, 1e-06, 0.999999, 5e-324, 1.7976931348623157e308, -2.5, math.inf, -math.inf],
    [n / 7 for n in range(2000)],
]


def test_only_lists_of_one_number_type_are_made_arrays():
    assert type(numbers_array([1, 2])) is IntArray
    assert type(numbers_array([0.5, 1.0])) is FloatArray
    for values in ([1, 2.0], [1, None], [True, 2], [True], ["a"], [None], []):
        assert type(numbers_array(values)) is list, values


def _server_reads(sql: str, value) -> list:
    with bound_cursor() as cursor:
        cursor.execute(sql, [value])
        return cursor.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's arrays")
@pytest.mark.parametrize("values", INTS)
@pytest.mark.parametrize("cast", ["bigint", "numeric"])
def test_the_server_reads_the_ints_psycopg_would_send(values, cast):
    assert _server_reads(f"SELECT %b::{cast}[]", IntArray(values)) == _server_reads(f"SELECT %b::{cast}[]", values)
    assert _server_reads(f"SELECT %b::{cast}[]", IntArray(values)) == values


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's arrays")
def test_small_ints_cast_to_integer_as_before_and_too_large_ones_fail_as_before():
    small = [0, 1, -5, 2**31 - 1]
    assert _server_reads("SELECT %b::integer[]", IntArray(small)) == small
    for value in ([2**31], IntArray([2**31])):
        with pytest.raises(DataError, match="out of range"), transaction.atomic():
            _server_reads("SELECT %b::integer[]", value)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's arrays")
@pytest.mark.parametrize("values", [*FLOATS, [math.nan, 1.0]])
def test_the_server_reads_the_floats_psycopg_would_send(values):
    ours = _server_reads("SELECT %b::double precision[]", FloatArray(values))
    theirs = _server_reads("SELECT %b::double precision[]", values)
    assert repr(ours) == repr(theirs) == repr(values)  # repr: NaN and the sign of zero compared too
    as_real = [_server_reads("SELECT %b::real[]", value) for value in (FloatArray(values[:1]), values[:1])]
    assert repr(as_real[0]) == repr(as_real[1])


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's arrays")
def test_empty_arrays_and_the_text_form():
    assert _server_reads("SELECT %b::bigint[]", IntArray()) == []
    assert _server_reads("SELECT %b::double precision[]", FloatArray()) == []
    with connection.cursor() as cursor:  # Django's cursor quotes parameters into the text: the list's own form
        cursor.execute("SELECT %s::bigint[], %s::double precision[]", [IntArray([1, 2]), FloatArray([0.5])])
        assert cursor.fetchone() == ([1, 2], [0.5])


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's arrays")
def test_the_connection_dumps_them_with_numpy():
    # Registered before Django's first connection copied psycopg's adapters: else they would go the slow way.
    connection.ensure_connection()
    transformer = Transformer(connection.connection)
    for value in (IntArray([1]), FloatArray([0.5])):
        dumper = transformer.get_dumper(value, PyFormat.AUTO)
        assert type(dumper).__module__ == "common.pg_arrays"
