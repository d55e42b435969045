"""Label Studio exports of a text classification project (a ``Choices`` control).

- JSON: tasks with ``data`` and ``annotations`` (each with ``completed_by``, ``result``,
  ``was_cancelled``, ``ground_truth``). Every annotator's choice becomes their answer; a ground
  truth annotation decides the gold label, else the annotators do if they agree.
- JSON-MIN and CSV: one flat row per task: the data fields, the control's column and, when
  known, ``annotator`` (an email) and ``created_at``. A multiple choice is ``{"choices": [...]}``.

Our item id travels in ``data.external_id`` (Label Studio numbers its tasks itself);
without it, the task's ``id`` is the item's id.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from labeling.exporting import spreadsheet_safe
from labeling.formats.doccano import joined_text
from labeling.formats.mapping import FieldMapping
from labeling.formats.records import NO_LABEL, ForeignRecord, flat_record, lower_keys
from labeling.formats.sources import container, raw_records

CONTROL = "label"  # the Choices control's name in what we write
FLAT_COLUMNS = ["id", "external_id", "text", CONTROL, "created_on", "source"]


def annotator_key(value) -> str | None:
    """Label Studio names a person by user id (``completed_by``) or, in the flat exports, by email."""
    if isinstance(value, dict):
        value = value.get("email") or value.get("id")
    if value in (None, ""):
        return None
    text = str(value).strip()
    return text.lower() if "@" in text else f"label-studio:{text}"


def read_json(data: bytes, name: str, mapping: FieldMapping):
    raws, errors, unit = raw_records(data, container(name, ("json", "jsonl")))
    return [_task(raw, unit, mapping) for raw in raws], errors


def read_flat(data: bytes, name: str, mapping: FieldMapping, kinds=("json", "jsonl", "csv")):
    raws, errors, unit = raw_records(data, container(name, kinds))
    records = []
    for raw in raws:
        values = raw[2]
        record = flat_record(raw, unit, mapping)
        record.id = values.get(mapping.field_name("id", "external_id"), values.get("id"))
        if isinstance(record.label, str) and record.label.startswith("{"):
            record.label = _choices_cell(record.label)
        annotator = annotator_key(values.get("annotator"))
        if annotator and record.label is not NO_LABEL:
            record.answers.append((annotator, record.label, values.get("created_at")))
        records.append(record)
    return records, errors


def read_csv(data: bytes, name: str, mapping: FieldMapping):
    return read_flat(data, name, mapping, kinds=("csv",))


def _choices_cell(cell: str):
    try:
        return json.loads(cell)
    except ValueError:
        return cell


def _task(raw: tuple, unit: str, mapping: FieldMapping) -> ForeignRecord:
    line, item, task = raw
    data = lower_keys(task.get("data"))
    title_field = mapping.field_name("title", "title")
    record = ForeignRecord(
        line=line,
        item=item,
        unit=unit,
        id=data.get(mapping.field_name("id", "external_id"), task.get("id")),
        text=data.get(mapping.field_name("text", "text")),
        title=data.get(title_field) if (mapping.title or title_field in data) else None,
        created_on=data.get("created_on"),
    )
    if not isinstance(task.get("data"), dict):
        record.problem = "a Label Studio task needs a 'data' object"
        return record
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        record.problem = "'annotations' must be a list"
        return record
    for annotation in annotations:
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        choice = _choice(annotation.get("result"), mapping.label)
        if choice is NO_LABEL:
            continue
        if annotation.get("ground_truth"):
            record.label = choice
        record.answers.append((annotator_key(annotation.get("completed_by")), choice, annotation.get("created_at")))
    return record


def _choice(result, control: str | None):
    for region in result if isinstance(result, list) else []:
        if not isinstance(region, dict) or region.get("type", "choices") != "choices":
            continue
        if control and str(region.get("from_name", "")).lower() != control.lower():
            continue
        value = region.get("value")
        if isinstance(value, dict) and "choices" in value:
            return value["choices"]
    return NO_LABEL


def _task_data(row: dict) -> dict:
    return {
        "external_id": row["id"],
        "text": joined_text(row),
        "created_on": row.get("created_on") or None,
        "source": row.get("source"),
    }


def write_json(rows: Iterable[dict]) -> Iterator[str]:
    """A JSON list of tasks; the gold label is a ground-truth annotation by no one in particular."""
    yield "["
    for number, row in enumerate(rows, start=1):
        annotations = []
        if row.get("tag"):
            result = {"from_name": CONTROL, "to_name": "text", "type": "choices", "value": {"choices": [row["tag"]]}}
            annotations.append({"result": [result], "ground_truth": True, "was_cancelled": False})
        task = {"id": number, "data": _task_data(row), "annotations": annotations, "predictions": []}
        yield ("\n" if number == 1 else ",\n") + json.dumps(task, ensure_ascii=False)
    yield "\n]\n"


def write_json_min(rows: Iterable[dict]) -> Iterator[str]:
    yield "["
    for number, row in enumerate(rows, start=1):
        flat = {"id": number, **_task_data(row), CONTROL: row.get("tag") or None}
        yield ("\n" if number == 1 else ",\n") + json.dumps(flat, ensure_ascii=False)
    yield "\n]\n"


def write_csv(rows: Iterable[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FLAT_COLUMNS)
    for number, row in enumerate(rows, start=1):
        flat = {"id": number, **_task_data(row), CONTROL: row.get("tag") or ""}
        writer.writerow([spreadsheet_safe(flat.get(column)) for column in FLAT_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
