"""Another tool's file as raw records with their line (or row) numbers, chosen by the file's extension.

JSON, JSON Lines and CSV go through the import's own line-numbering readers; Parquet
through pandas (pyarrow, the optional extra: :mod:`labeling.formats.parquet`), numbered by row.
"""

import io
import json
from datetime import datetime
from pathlib import Path

from labeling.formats.parquet import parquet_modules
from labeling.parsing import EXPECTED_CONTENT, ImportFileError, RowError, _read_csv, _read_json, _read_jsonl

Raw = tuple[int, int | None, dict]
CONTAINERS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


def container(name: str, allowed: tuple[str, ...]) -> str:
    kind = CONTAINERS.get(Path(name).suffix.lower())
    if kind not in allowed:
        shown = ", ".join(sorted(ext for ext, value in CONTAINERS.items() if value in allowed))
        raise ImportFileError(f"unknown file type '{Path(name).suffix}' for this format; use {shown}")
    return kind


def raw_records(data: bytes, kind: str) -> tuple[list[Raw], list[RowError], str]:
    """(records, errors, unit): records keep the file's field names, lower-cased at the top level."""
    if kind == "parquet":
        return _read_parquet(data), [], "row"
    text = data.decode("utf-8-sig", errors="surrogateescape")
    if not text.strip():
        raise ImportFileError(f"the file is empty; expected {EXPECTED_CONTENT[kind]}")
    if kind == "csv":
        records, errors = _read_csv(text, check_header=_check_repeated)
    elif kind == "json":
        records, errors = _read_json(text)
    else:
        records, errors = _read_jsonl(text)
    return records, errors, "line"


def _check_repeated(header: list[str]) -> None:
    repeated = [name for position, name in enumerate(header) if name and name in header[:position]]
    if repeated:
        raise ImportFileError(f"line 1: column '{repeated[0]}' appears more than once")


def _read_parquet(data: bytes) -> list[Raw]:
    pd, _, _ = parquet_modules()  # only an import of Parquet pays for pandas

    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for a damaged or foreign file
        raise ImportFileError(f"cannot read Parquet ({exc})") from None
    names = class_label_names(data)
    records: list[Raw] = []
    for position, values in enumerate(frame.to_dict(orient="records"), start=1):
        record = {str(key).strip().lower(): _plain(value) for key, value in values.items()}
        records.append((position, None, _named_labels(record, names)))
    return records


def class_label_names(data: bytes) -> dict[str, list[str]]:
    """A Hugging Face Parquet file's ClassLabel names per column, from its schema metadata."""
    _, _, pq = parquet_modules()
    metadata = pq.read_schema(io.BytesIO(data)).metadata or {}
    try:
        info = json.loads(metadata.get(b"huggingface", b"{}"))
    except ValueError:
        return {}
    features = info.get("info", {}).get("features", {}) if isinstance(info, dict) else {}
    return {
        str(name).lower(): list(feature["names"])
        for name, feature in features.items()
        if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and "names" in feature
    }


def _named_labels(record: dict, names: dict[str, list[str]]) -> dict:
    for column, labels in names.items():
        value = record.get(column)
        if isinstance(value, int) and not isinstance(value, bool):
            # -1 is datasets' "no label"; another number outside the names stays, and is rejected.
            record[column] = None if value == -1 else labels[value] if 0 <= value < len(labels) else value
    return record


def _plain(value):
    """pandas/numpy values as the JSON readers would give them (None for a gap, text for a time)."""
    pd, _, _ = parquet_modules()
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy scalars and arrays
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value
