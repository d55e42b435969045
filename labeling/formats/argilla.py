"""Argilla exports of a dataset with a label question.

Three shapes are read, one record per line (JSON Lines) or in a JSON list:
- Argilla 2 (``record.to_dict()``, ``records.to_json``): ``{"id", "fields": {...}, "metadata": {...},
  "responses": {"label": [{"value", "user_id", "status"?}]}, ...}``;
- Argilla 1 feedback records: ``{"external_id", "fields", "responses": [{"user_id", "values":
  {"label": {"value"}}, "status"}]}``;
- the flattened rows of ``to_datasets()`` / the Hub: ``text``, ``label.responses``,
  ``label.responses.users``, ``label.responses.status``.
Only submitted answers count (drafts and discarded ones are skipped); each is the user's answer.
"""

import json
from collections.abc import Iterable, Iterator

from labeling.formats.doccano import joined_text
from labeling.formats.mapping import FieldMapping
from labeling.formats.records import ForeignRecord, lower_keys
from labeling.formats.sources import container, raw_records

QUESTION = "label"
COUNTED = (None, "", "submitted")


def read(data: bytes, name: str, mapping: FieldMapping):
    raws, errors, unit = raw_records(data, container(name, ("json", "jsonl", "parquet")))
    return [_record(raw, unit, mapping) for raw in raws], errors


def _user(user_id) -> str | None:
    return None if user_id in (None, "") else f"argilla:{user_id}"


def _record(raw: tuple, unit: str, mapping: FieldMapping) -> ForeignRecord:
    line, item, values = raw
    # Fields and metadata may be nested (Argilla's own export) or flattened into the record.
    fields = {**values, **lower_keys(values.get("fields"))}
    metadata = lower_keys(values.get("metadata"))
    title_field = mapping.field_name("title", "title")
    id_field = mapping.field_name("id", "id")
    question = mapping.field_name("label", QUESTION)
    record = ForeignRecord(
        line=line,
        item=item,
        unit=unit,
        id=values.get(id_field) if values.get(id_field) not in (None, "") else values.get("external_id"),
        text=fields.get(mapping.field_name("text", "text")),
        title=fields.get(title_field) if (mapping.title or title_field in fields) else None,
        created_on=metadata.get("created_on", values.get("created_on")),
    )
    responses = values.get("responses")
    if isinstance(responses, dict):
        _v2_answers(record, lower_keys(responses).get(question))
    elif isinstance(responses, list):
        _v1_answers(record, responses, question)
    elif f"{question}.responses" in values:
        _flat_answers(record, values, question)
    return record


def _v2_answers(record: ForeignRecord, answers) -> None:
    for answer in answers if isinstance(answers, list) else []:
        if isinstance(answer, dict) and answer.get("status") in COUNTED:
            record.answers.append((_user(answer.get("user_id")), answer.get("value"), answer.get("updated_at")))


def _v1_answers(record: ForeignRecord, responses: list, question: str) -> None:
    for response in responses:
        if not isinstance(response, dict) or response.get("status") not in COUNTED:
            continue
        value = lower_keys(lower_keys(response.get("values")).get(question)).get("value")
        if value is not None:
            record.answers.append((_user(response.get("user_id")), value, response.get("updated_at")))


def _flat_answers(record: ForeignRecord, values: dict, question: str) -> None:
    answers = values.get(f"{question}.responses") or []
    users = values.get(f"{question}.responses.users") or [None] * len(answers)
    statuses = values.get(f"{question}.responses.status") or [None] * len(answers)
    if not (isinstance(answers, list) and len(users) == len(answers) == len(statuses)):
        record.problem = f"'{question}.responses' and its users and statuses must be lists of one length"
        return
    for value, user, status in zip(answers, users, statuses, strict=True):
        if status in COUNTED:
            record.answers.append((_user(user), value, None))


def write(rows: Iterable[dict]) -> Iterator[str]:
    """Argilla 2 records, JSON Lines; the gold label is a submitted answer by no user."""
    for row in rows:
        responses = (
            {QUESTION: [{"value": row["tag"], "user_id": None, "status": "submitted"}]} if row.get("tag") else {}
        )
        record = {
            "id": row["id"],
            "fields": {"text": joined_text(row)},
            "metadata": {"created_on": row.get("created_on") or None, "source": row.get("source")},
            "responses": responses,
            "suggestions": {},
            "vectors": {},
            "status": "completed" if responses else "pending",
        }
        yield json.dumps(record, ensure_ascii=False) + "\n"
