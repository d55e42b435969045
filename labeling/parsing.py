"""Parse content files (CSV, a JSON list, JSONL) into validated rows with line numbers.

Parsing only: nothing here writes to the database, so ``evaluate`` can read a labelled
file without storing it and the import service gets rows it can trust.
"""

import csv
import io
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path

from django.utils.dateparse import parse_date, parse_datetime

from common.errors import ApplicationError

REQUIRED_COLUMNS = ("id", "created_on", "title", "description")
OPTIONAL_COLUMNS = ("tag",)
MAX_TITLE_LENGTH = 1000
MAX_ID_LENGTH = 200
JSON_WHITESPACE = " \t\r\n"
LINE_END = re.compile(r"\r\n|\r|\n")
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
EXPECTED_CONTENT = {"csv": "a header line", "json": "a list of objects", "jsonl": "one JSON object per line"}


class ImportFileError(ApplicationError):
    """The file as a whole cannot be imported (format, columns); nothing is written."""

    code = "import_file_invalid"
    http_status = 400


@dataclass(frozen=True)
class ContentRow:
    line: int
    external_id: str
    title: str
    description: str
    created_on: datetime | None
    tag: str | None


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    item: int | None = None  # the object's place in a JSON list: a list may sit on one line
    unit: str = "line"  # "row" in files without lines (Parquet)

    def __str__(self):
        return f"{_where(self.line, self.item, self.unit)}: {self.reason}"


def _where(line: int, item: int | None, unit: str = "line") -> str:
    return f"{unit} {line}" if item is None else f"{unit} {line}, item {item}"


@dataclass(frozen=True)
class AnswerRow:
    """One annotator's answer for one item, from another tool's export (kept as an Annotation)."""

    line: int
    external_id: str
    annotator: str  # the tool's id for the person, namespaced ("label-studio:10") or an email/username
    tag: str
    answered_at: datetime | None = None


@dataclass
class ParsedFile:
    rows: list[ContentRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    answers: list[AnswerRow] = field(default_factory=list)
    # Items whose annotators disagree and the file decides nothing: no gold label, a reviewer adjudicates.
    disputed: list[str] = field(default_factory=list)


def file_format(name: str) -> str:
    """The format of a file named ``name``, from its extension."""
    suffix = Path(name).suffix
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        raise ImportFileError(f"unknown file type '{suffix}'; use .csv, .json or .jsonl")
    return fmt


def parse_content_file(path: Path | str, *, tags: set[str], fmt: str | None = None) -> ParsedFile:
    """Parse ``path``; ``tags`` is the set of valid tag slugs.

    Error messages do not name the file: callers prefix it, once.
    """
    path = Path(path)
    fmt = fmt or file_format(path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read file ({exc.strerror})") from exc
    return parse_content_bytes(data, fmt=fmt, tags=tags)


def parse_content_bytes(data: bytes, *, fmt: str, tags: set[str]) -> ParsedFile:
    # surrogateescape keeps undecodable bytes visible, so a badly encoded row is
    # rejected with its line number instead of failing the whole file.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    if not text.strip():
        raise ImportFileError(f"the file is empty; expected {EXPECTED_CONTENT[fmt]}")
    readers = {"csv": _read_csv, "json": _read_json, "jsonl": _read_jsonl}
    records, errors = readers[fmt](text)
    _check_columns(records)
    parsed = ParsedFile(errors=errors)
    first_place_of_id: dict[str, str] = {}
    for line, item, record in records:
        try:
            row = _validate(line, record, tags)
        except ValueError as exc:
            parsed.errors.append(RowError(line, str(exc), item))
            continue
        if row.external_id in first_place_of_id:
            first = first_place_of_id[row.external_id]
            parsed.errors.append(RowError(line, f"duplicate id '{row.external_id}' (first on {first})", item))
            continue
        first_place_of_id[row.external_id] = _where(line, item)
        parsed.rows.append(row)
    parsed.errors.sort(key=lambda error: (error.line, error.item or 0))
    return parsed


def _read_csv(text: str, check_header=None) -> tuple[list[tuple[int, int | None, dict]], list[RowError]]:
    # csv's own 128 KB field limit would stop the reader mid-file; the file is already
    # in memory, so lift it and let the model's limits (validate_record) decide, as for
    # JSON. The setting is process-wide, but every caller wants the same.
    csv.field_size_limit(sys.maxsize)
    # strict: a quote left open must be an error, not swallow the rest of the file into one field.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)  # the text is not blank, so there is a first row
    except csv.Error as exc:
        raise ImportFileError(f"line 1: cannot read the header ({exc})") from None
    header = [name.strip().lower() for name in header]
    (check_header or _check_header)(header)
    records: list[tuple[int, int | None, dict]] = []
    errors: list[RowError] = []
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot resume reliably (a quoted field may span lines), and
            # the rows after this one must not go missing silently.
            if str(exc) == "unexpected end of data":
                raise ImportFileError(f"line {line}: a quoted field starts here and is never closed") from None
            raise ImportFileError(f"line {line}: malformed CSV ({exc})") from None
        if values and any(value.strip() for value in values):
            if len(values) < len(header) and set(header[len(values) :]) <= set(OPTIONAL_COLUMNS):
                # Spreadsheets leave out empty cells at the end of a row: a missing tag is no tag.
                values = values + [""] * (len(header) - len(values))
            if len(values) != len(header):
                errors.append(RowError(line, _field_count_error(header, len(values))))
            else:
                records.append((line, None, dict(zip(header, values))))
        # A record may span several physical lines (newlines inside quotes).
        line = reader.line_num + 1
    return records, errors


def _field_count_error(header: list[str], found: int) -> str:
    trailing: list[str] = []
    for name in reversed(header):
        if name not in OPTIONAL_COLUMNS:
            break
        trailing.insert(0, name)
    without = f" ({len(header) - len(trailing)} without the optional {', '.join(trailing)})" if trailing else ""
    return f"expected {len(header)} fields{without}, found {found}"


def _check_header(header: list[str]) -> None:
    # With a repeated name, one of the columns would be silently ignored.
    repeated = [name for position, name in enumerate(header) if name and name in header[:position]]
    if repeated:
        raise ImportFileError(f"line 1: column '{repeated[0]}' appears more than once")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportFileError(
            f"line 1: missing required column(s): {', '.join(missing)}; "
            f"expected {', '.join(REQUIRED_COLUMNS)} and optionally {', '.join(OPTIONAL_COLUMNS)}"
            + _header_hint(header)
        )


def _header_hint(header: list[str]) -> str:
    """Why a header may not split into the expected columns: the two usual spreadsheet exports."""
    if any("\x00" in name for name in header):
        return " (the file looks UTF-16 encoded: save it as UTF-8)"
    separator = next((sep for sep in ";\t|" if len(header) == 1 and sep in header[0]), None)
    if separator is not None:
        return f" (the header is separated by {separator!r}, not commas: save the file as comma-separated)"
    return ""


def _read_json(text: str) -> tuple[list[tuple[int, int | None, dict]], list[RowError]]:
    decoder = json.JSONDecoder()
    position = _skip_whitespace(text, 0)
    if position >= len(text) or text[position] != "[":
        raise ImportFileError("line 1: a .json file must hold a list of objects ([{...}, ...])")
    records: list[tuple[int, int | None, dict]] = []
    errors: list[RowError] = []
    line_at = _LineCounter(text)
    position = _skip_whitespace(text, position + 1)
    if position < len(text) and text[position] == "]":
        return records, errors
    item = 0
    while position < len(text):
        line, item = line_at(position), item + 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{_where(exc.lineno, item)}: invalid JSON ({_json_problem(exc)})") from None
        if isinstance(value, dict):
            records.append((line, item, _lower_keys(value)))
        else:
            errors.append(RowError(line, f"expected an object, found {type(value).__name__}", item))
        position = _skip_whitespace(text, position)
        if position < len(text) and text[position] == ",":
            position = _skip_whitespace(text, position + 1)
            continue
        if position < len(text) and text[position] == "]":
            return records, errors
        break
    raise ImportFileError(f"line {line_at(position)}: invalid JSON (expected ',' or ']')")


def _json_problem(exc: json.JSONDecodeError) -> str:
    """json's message with the column: its own messages ("... starting at") leave the place to str(exc)."""
    joint = " " if exc.msg.endswith(" at") else " at "
    return f"{exc.msg}{joint}column {exc.colno}"


class _LineCounter:
    """The line number of ever later positions in ``text``.

    Counts only the newlines since the previous position, so numbering every record of
    a JSON list stays linear in the file's size (counting from the start was quadratic).
    """

    def __init__(self, text: str):
        self.text, self.position, self.line = text, 0, 1

    def __call__(self, position: int) -> int:
        self.line += self.text.count("\n", self.position, position)
        self.position = position
        return self.line


def _read_jsonl(text: str) -> tuple[list[tuple[int, int | None, dict]], list[RowError]]:
    records: list[tuple[int, int | None, dict]] = []
    errors: list[RowError] = []
    # Only "\r\n", "\n" and "\r" end a record (JSON strings hold none of them raw):
    # str.splitlines() would also split on U+2028, U+0085 and others, which JSON
    # allows unescaped inside strings.
    for line, raw in enumerate(LINE_END.split(text), start=1):
        if not raw.strip(JSON_WHITESPACE):
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(RowError(line, f"invalid JSON ({_json_problem(exc)})"))
            continue
        if isinstance(value, dict):
            records.append((line, None, _lower_keys(value)))
        else:
            errors.append(RowError(line, f"expected an object, found {type(value).__name__}"))
    return records, errors


def _check_columns(records: list[tuple[int, int | None, dict]]) -> None:
    """A column that no record has is a file error (CSV headers are checked earlier)."""
    if not records:
        return
    seen = set().union(*(record.keys() for _, _, record in records))
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        raise ImportFileError(f"missing required field(s) in every item: {', '.join(missing)}")


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in JSON_WHITESPACE:
        position += 1
    return position


def _lower_keys(record: dict) -> dict:
    return {str(key).strip().lower(): value for key, value in record.items()}


class RecordError(ValueError):
    """One record is invalid; ``field`` names the offending field (None: the record as a whole)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def validate_record(record: dict, tags: set[str], index: int) -> ContentRow:
    """Check one record (keys lower-cased) by the import's rules; raise :class:`RecordError`.

    ``index`` is where the record came from (a file's line number, a batch's position)
    and is kept on the row. Shared by the file import and the streaming API.
    """
    for name in REQUIRED_COLUMNS:
        if name not in record:
            raise RecordError(f"missing field '{name}'", field=name)
    values = {}
    for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        try:
            values[name] = _as_text(record.get(name), name)
        except ValueError as exc:
            raise RecordError(str(exc), field=name) from None
    for name, value in values.items():
        if any("\udc80" <= char <= "\udcff" for char in value):
            raise RecordError(f"field '{name}' is not valid UTF-8 (wrong encoding?)", field=name)
        # A JSON escape like "\ud800" decodes to half a character, which no database stores.
        surrogate = next((char for char in value if "\ud800" <= char <= "\udfff"), None)
        if surrogate is not None:
            raise RecordError(
                f"field '{name}' contains a lone surrogate (U+{ord(surrogate):04X}), half of a character", field=name
            )
        # PostgreSQL cannot store U+0000 in text; without this check the whole batch
        # fails in the database with no line or index.
        if "\x00" in value:
            raise RecordError(f"field '{name}' contains a NUL character", field=name)
    external_id = values["id"].strip()
    title = " ".join(values["title"].split())
    if not external_id:
        raise RecordError("missing id", field="id")
    if len(external_id) > MAX_ID_LENGTH:
        raise RecordError(f"id longer than {MAX_ID_LENGTH} characters", field="id")
    if not title:
        raise RecordError("missing title", field="title")
    if len(title) > MAX_TITLE_LENGTH:
        raise RecordError(f"title longer than {MAX_TITLE_LENGTH} characters", field="title")
    tag = values["tag"].strip() or None
    if tag is not None and tag not in tags:
        raise RecordError(f"unknown tag '{tag}'; known tags: {', '.join(sorted(tags))}", field="tag")
    try:
        created_on = _parse_created_on(values["created_on"].strip())
    except ValueError as exc:
        raise RecordError(str(exc), field="created_on") from None
    return ContentRow(
        line=index,
        external_id=external_id,
        title=title,
        description=values["description"].strip(),
        created_on=created_on,
        tag=tag,
    )


def _validate(line: int, record: dict, tags: set[str]) -> ContentRow:
    return validate_record(record, tags, line)


def _as_text(value, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"field '{name}' must be text, found {type(value).__name__}")
    text = str(value)
    # Our CSV export guards formula-like cells with a leading quote; take it off again.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def _parse_created_on(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime.combine(day, time()) if day else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(f"bad date '{value[:40]}' in created_on; expected e.g. 2020-02-20 06:43:18")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
