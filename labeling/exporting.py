"""Write gold labels as CSV or JSONL, in the import's columns, safe to open in a spreadsheet."""

import csv
import io
import json
from collections.abc import Iterable, Iterator

EXPORT_COLUMNS = [
    "id",
    "created_on",
    "title",
    "description",
    "tag",
    "source",
    "provenance",
    "split",
    "version",
    "decided_by",
    "decided_at",
]
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield _drain(buffer)
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(column)) for column in EXPORT_COLUMNS])
        yield _drain(buffer)


def jsonl_lines(rows: Iterable[dict]) -> Iterator[str]:
    # JSON is data, not a spreadsheet: values go out exactly as stored.
    for row in rows:
        yield json.dumps({column: row.get(column) for column in EXPORT_COLUMNS}, ensure_ascii=False) + "\n"


def _drain(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value
