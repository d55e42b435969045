"""doccano's text classification export: JSON Lines of ``{"id", "text", "label": [...]}``.

doccano keeps one text; we write ``title + "\\n" + description`` and read it back the same way.
Extra top-level keys are doccano's metadata: we add ``created_on`` and ``source`` there.
"""

import json
from collections.abc import Iterable, Iterator

from labeling.formats.mapping import FieldMapping
from labeling.formats.records import flat_record
from labeling.formats.sources import container, raw_records


def read(data: bytes, name: str, mapping: FieldMapping):
    raws, errors, unit = raw_records(data, container(name, ("jsonl", "json")))
    records = []
    for raw in raws:
        # Older doccano versions call the field "labels".
        default = "labels" if "label" not in raw[2] and "labels" in raw[2] else "label"
        records.append(flat_record(raw, unit, mapping, label_default=default))
    return records, errors


def write(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        record = {
            "id": row["id"],
            "text": joined_text(row),
            "label": [row["tag"]] if row.get("tag") else [],
            "created_on": row.get("created_on") or None,
            "source": row.get("source"),
        }
        yield json.dumps(record, ensure_ascii=False) + "\n"


def joined_text(row: dict) -> str:
    return f"{row['title']}\n{row['description']}" if row.get("description") else row["title"]
