"""Other tools' files in and out: doccano, Label Studio, Argilla, Hugging Face ``datasets``.

Reading gives the import's own :class:`~labeling.parsing.ParsedFile` (rows, line-numbered
errors, and per-annotator answers), so the import service and its dry-run treat every tool's
file alike. Writing turns gold export rows (``selectors.gold_export_rows``) into each format.
Parsing only: nothing here touches the database.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from labeling import exporting
from labeling.formats import argilla, doccano, huggingface, label_studio
from labeling.formats.mapping import FieldMapping, MappingError, parse_label_map
from labeling.formats.records import parse_records
from labeling.parsing import ImportFileError, ParsedFile, file_format, parse_content_bytes

NATIVE = "tagloop"
NO_MAPPING = FieldMapping()


@dataclass(frozen=True)
class Reader:
    read: Callable  # (data, name, mapping) -> (records, errors)
    extensions: str


READERS = {
    "doccano": Reader(doccano.read, ".jsonl"),
    "label-studio": Reader(label_studio.read_json, ".json"),
    "label-studio-min": Reader(label_studio.read_flat, ".json"),
    "label-studio-csv": Reader(label_studio.read_csv, ".csv"),
    "argilla": Reader(argilla.read, ".json, .jsonl or .parquet"),
    "huggingface": Reader(huggingface.read, ".parquet or .jsonl"),
}
IMPORT_FORMATS = [NATIVE, *READERS]


def parse_file(path: Path | str, *, fmt: str, tags: set[str], mapping: FieldMapping = NO_MAPPING) -> ParsedFile:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read file ({exc.strerror})") from exc
    return parse_bytes(data, name=path.name, fmt=fmt, tags=tags, mapping=mapping)


def parse_bytes(data: bytes, *, name: str, fmt: str, tags: set[str], mapping: FieldMapping = NO_MAPPING):
    """Parse a file called ``name`` in format ``fmt`` (``tagloop``: our CSV/JSON/JSONL columns)."""
    if fmt == NATIVE:
        if mapping != NO_MAPPING:
            raise MappingError("field mappings and --label-map apply to other tools' formats; see --format")
        return parse_content_bytes(data, fmt=file_format(name), tags=tags)
    if fmt not in READERS:
        raise ImportFileError(f"unknown format '{fmt}'; use one of {', '.join(IMPORT_FORMATS)}")
    if not data.strip():
        raise ImportFileError(f"the file is empty; expected a {fmt} export ({READERS[fmt].extensions})")
    records, errors = READERS[fmt].read(data, name, mapping)
    parsed = parse_records(records, mapping=mapping, tags=tags)
    parsed.errors = sorted([*errors, *parsed.errors], key=lambda error: (error.line, error.item or 0))
    return parsed


@dataclass(frozen=True)
class Writer:
    lines: Callable | None  # rows -> text chunks; None for binary formats
    extension: str
    content_type: str


WRITERS = {
    "csv": Writer(exporting.csv_lines, "csv", "text/csv; charset=utf-8"),
    "jsonl": Writer(exporting.jsonl_lines, "jsonl", "application/x-ndjson; charset=utf-8"),
    "doccano": Writer(doccano.write, "jsonl", "application/x-ndjson; charset=utf-8"),
    "label-studio": Writer(label_studio.write_json, "json", "application/json; charset=utf-8"),
    "label-studio-min": Writer(label_studio.write_json_min, "json", "application/json; charset=utf-8"),
    "label-studio-csv": Writer(label_studio.write_csv, "csv", "text/csv; charset=utf-8"),
    "argilla": Writer(argilla.write, "jsonl", "application/x-ndjson; charset=utf-8"),
    "huggingface": Writer(huggingface.write_jsonl, "jsonl", "application/x-ndjson; charset=utf-8"),
    "huggingface-parquet": Writer(None, "parquet", "application/vnd.apache.parquet"),
}
EXPORT_FORMATS = list(WRITERS)


def export_bytes(rows: Iterable[dict], *, fmt: str, tag_names: list[str]) -> bytes:
    """The whole export in memory (Parquet cannot be streamed line by line)."""
    writer = WRITERS[fmt]
    if writer.lines is None:
        return huggingface.write_parquet(rows, tag_names=tag_names)
    return "".join(writer.lines(rows)).encode()


__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "NATIVE",
    "WRITERS",
    "FieldMapping",
    "MappingError",
    "export_bytes",
    "parse_bytes",
    "parse_file",
    "parse_label_map",
]
