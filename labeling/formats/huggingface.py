"""Hugging Face ``datasets`` files: Parquet (as ``push_to_hub`` / ``to_parquet`` write them) or JSON Lines.

Columns: ``text`` and ``label`` by default (``--text-field``, ``--label-field``), ``title`` and
``id`` when present. A ClassLabel column (integers) is read through the names in the Parquet
file's ``huggingface`` schema metadata; in JSON Lines, give the names with ``--label-map 0=...``.
We write ``id``, ``title``, ``text`` (the description), ``label`` and ``created_on``; in Parquet
the label is a ClassLabel over the tag set, as ``datasets`` would store it.
"""

import io
import json
from collections.abc import Iterable, Iterator

from labeling.formats.mapping import FieldMapping
from labeling.formats.parquet import parquet_modules
from labeling.formats.records import flat_record
from labeling.formats.sources import container, raw_records

COLUMNS = ["id", "title", "text", "label", "created_on", "source"]


def read(data: bytes, name: str, mapping: FieldMapping):
    raws, errors, unit = raw_records(data, container(name, ("parquet", "jsonl", "json")))
    return [flat_record(raw, unit, mapping) for raw in raws], errors


def _row(row: dict) -> dict:
    return {
        "id": row["id"],
        "title": row["title"],
        "text": row.get("description") or "",
        "label": row.get("tag") or None,
        "created_on": row.get("created_on") or None,
        "source": row.get("source"),
    }


def write_jsonl(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(_row(row), ensure_ascii=False) + "\n"


def write_parquet(rows: Iterable[dict], *, tag_names: list[str]) -> bytes:
    pd, pa, pq = parquet_modules()
    frame = pd.DataFrame([_row(row) for row in rows], columns=COLUMNS)
    position = {name: index for index, name in enumerate(tag_names)}
    # ClassLabel: an integer per label (-1 for none, as datasets does), the names in the metadata.
    frame["label"] = [position.get(tag, -1) if tag else -1 for tag in frame["label"]]
    table = pa.Table.from_pandas(frame.astype({"label": "int64"}), preserve_index=False)
    features = {
        "id": {"dtype": "string", "_type": "Value"},
        "title": {"dtype": "string", "_type": "Value"},
        "text": {"dtype": "string", "_type": "Value"},
        "label": {"names": tag_names, "_type": "ClassLabel"},
        "created_on": {"dtype": "string", "_type": "Value"},
        "source": {"dtype": "string", "_type": "Value"},
    }
    metadata = {**(table.schema.metadata or {}), b"huggingface": json.dumps({"info": {"features": features}}).encode()}
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()
