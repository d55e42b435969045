"""Another tool's record, made ours: mapped fields, one gold label decided, answers checked.

Every reader (doccano, Label Studio, Argilla, Hugging Face) turns its file into
:class:`ForeignRecord` objects; :func:`parse_records` then applies the import's own rules
(``validate_record``), so a row from any tool is accepted or rejected for the same reasons and
with its line (or row) number.
"""

import hashlib
from dataclasses import dataclass, field

from labeling.formats.mapping import FieldMapping
from labeling.parsing import (
    MAX_TITLE_LENGTH,
    AnswerRow,
    ParsedFile,
    RecordError,
    RowError,
    _parse_created_on,
    _where,
    validate_record,
)

NO_LABEL = object()  # the file decides no label for this item (unlike an explicit empty one)


@dataclass
class ForeignRecord:
    line: int
    item: int | None = None
    unit: str = "line"
    id: object = None
    text: object = None
    title: object = None
    created_on: object = None
    # The label the file decides (a label column, a ground-truth annotation); NO_LABEL: none.
    label: object = NO_LABEL
    # (annotator, label, answered_at) for each person's answer; annotator None: an answer the
    # file does not attribute (it counts for the gold label, but is no one's Annotation).
    answers: list[tuple[str | None, object, object]] = field(default_factory=list)
    # A structural problem found by the reader (the row is rejected with it).
    problem: str | None = None


def lower_keys(value) -> dict:
    return {str(key).strip().lower(): item for key, item in value.items()} if isinstance(value, dict) else {}


def split_text(text: str) -> tuple[str, str]:
    """One text field -> (title, description): the first line is the title, the rest the description.

    Our exports write ``title + "\\n" + description`` (a title never holds a newline), so a
    round trip gives back both. A first line too long for a title is cut at a space.
    """
    text = text.strip()
    title, _, rest = text.partition("\n")
    if len(title) > MAX_TITLE_LENGTH:
        cut = title.rfind(" ", 0, MAX_TITLE_LENGTH) if " " in title[:MAX_TITLE_LENGTH] else MAX_TITLE_LENGTH
        title, rest = title[:cut], (title[cut:] + "\n" + rest).strip()
    return title.strip(), rest.strip()


def single_label(value) -> object:
    """A label cell: a string, a number, or a list of one (doccano, choices). Several -> RecordError."""
    if isinstance(value, dict) and "choices" in value:
        value = value["choices"]
    if isinstance(value, (list, tuple)):
        values = [item for item in value if item not in (None, "")]
        if len(values) > 1:
            shown = ", ".join(str(item) for item in values[:5])
            raise RecordError(f"several labels ({shown}); tagloop keeps one tag per item", field="label")
        return values[0] if values else None
    if value == "":
        return None
    return value


def parse_records(records: list[ForeignRecord], *, mapping: FieldMapping, tags: set[str]) -> ParsedFile:
    parsed = ParsedFile()
    first_place: dict[str, str] = {}
    for record in records:
        try:
            row, answers, disputed = _record_rows(record, mapping, tags)
        except RecordError as exc:
            parsed.errors.append(RowError(record.line, str(exc), record.item, record.unit))
            continue
        if row.external_id in first_place:
            reason = f"duplicate id '{row.external_id}' (first on {first_place[row.external_id]})"
            parsed.errors.append(RowError(record.line, reason, record.item, record.unit))
            continue
        first_place[row.external_id] = _where(record.line, record.item, record.unit)
        parsed.rows.append(row)
        parsed.answers.extend(answers)
        if disputed:
            parsed.disputed.append(row.external_id)
    parsed.errors.sort(key=lambda error: (error.line, error.item or 0))
    return parsed


def _record_rows(record: ForeignRecord, mapping: FieldMapping, tags: set[str]):
    if record.problem:
        raise RecordError(record.problem)
    title, description = _title_and_description(record)
    given = (_answer(record, annotator, label, when, mapping, tags) for annotator, label, when in record.answers)
    answers = [answer for answer in given if answer is not None]
    tag, disputed = _gold_tag(record, answers, mapping, tags)
    external_id = _external_id(record.id, title, description)
    values = {"id": external_id, "created_on": record.created_on, "title": title, "description": description}
    row = validate_record({**values, "tag": tag or ""}, tags, record.line)
    attributed = [_with_id(answer, row.external_id) for answer in answers if answer.annotator]
    return row, attributed, disputed


def _title_and_description(record: ForeignRecord) -> tuple[str, str]:
    for name, value in (("text", record.text), ("title", record.title)):
        if value is not None and not isinstance(value, (str, int, float)):
            raise RecordError(f"field '{name}' must be text, found {type(value).__name__}", field=name)
    text = "" if record.text is None else str(record.text)
    if record.title is not None:
        return str(record.title), text
    if record.text is None:
        raise RecordError("no text: name its field with --text-field", field="text")
    return split_text(text)


def _external_id(value, title: str, description: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        # No id in the file: one from the text, so importing the same file again changes nothing.
        return "sha256:" + hashlib.sha256(f"{title}\n{description}".encode()).hexdigest()[:24]
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # pandas reads an integer column with gaps as floats
    return str(value)


def _checked_tag(label, mapping: FieldMapping, tags: set[str], whose: str) -> str | None:
    label = single_label(label)
    if label is None:
        return None
    if isinstance(label, bool) or not isinstance(label, (str, int, float)):
        raise RecordError(f"{whose} must be text, found {type(label).__name__}", field="label")
    tag = mapping.tag(label)
    if tag not in tags:
        hint = "" if mapping.label_map else "; map it with --label-map"
        raise RecordError(f"unknown tag '{tag}' in {whose}; known tags: {', '.join(sorted(tags))}{hint}", field="label")
    return tag


def _answer(record, annotator, label, when, mapping, tags) -> AnswerRow | None:
    whose = "an answer" if annotator is None else f"the answer of annotator '{annotator}'"
    tag = _checked_tag(label, mapping, tags, whose)
    if tag is None:
        return None
    try:
        answered_at = _parse_created_on(str(when).strip()) if when not in (None, "") else None
    except ValueError:
        raise RecordError(f"bad date '{str(when)[:40]}' in the answer of annotator '{annotator}'") from None
    return AnswerRow(record.line, "", "" if annotator is None else str(annotator), tag, answered_at)


def _with_id(answer: AnswerRow, external_id: str) -> AnswerRow:
    return AnswerRow(answer.line, external_id, answer.annotator, answer.tag, answer.answered_at)


def _gold_tag(record, answers: list[AnswerRow], mapping, tags) -> tuple[str | None, bool]:
    """The file's own decision if it has one, else the annotators' if they all agree."""
    if record.label is not NO_LABEL:
        return _checked_tag(record.label, mapping, tags, "the label"), False
    given = {answer.tag for answer in answers}
    if len(given) == 1:
        return given.pop(), False
    return None, len(given) > 1


def flat_record(raw: tuple, unit: str, mapping: FieldMapping, *, label_default: str = "label") -> ForeignRecord:
    """A record whose fields sit side by side (doccano, Label Studio's JSON-MIN and CSV, a dataset's row)."""
    line, item, values = raw
    title_field = mapping.field_name("title", "title")
    label_field = mapping.field_name("label", label_default)
    return ForeignRecord(
        line=line,
        item=item,
        unit=unit,
        id=values.get(mapping.field_name("id", "id")),
        text=values.get(mapping.field_name("text", "text")),
        title=values.get(title_field) if (mapping.title or title_field in values) else None,
        created_on=values.get("created_on"),
        label=values[label_field] if label_field in values else NO_LABEL,
    )
