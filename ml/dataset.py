"""Read the Made With ML style CSV (id, created_on, title, description, tag)."""

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ml.items import LabelledItem

REQUIRED_COLUMNS = ("title", "description", "tag")
DATED_COLUMNS = ("id", "created_on")


@dataclass(frozen=True)
class DatasetRow:
    """A labelled item with the row's id and creation time (for time-based splits)."""

    id: str
    created_on: datetime
    item: LabelledItem


def read_labelled_csv(path: Path) -> list[LabelledItem]:
    """Load every row of ``path`` as a :class:`LabelledItem`.

    The csv module (not line splitting) is used because descriptions contain
    newlines inside quoted fields.
    """
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return [
            LabelledItem(title=row["title"] or "", description=row["description"] or "", tag=row["tag"].strip())
            for row in reader
        ]


def read_dataset_rows(path: Path) -> list[DatasetRow]:
    """Like :func:`read_labelled_csv`, keeping ``id`` and ``created_on`` (ISO 8601)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        required = DATED_COLUMNS + REQUIRED_COLUMNS
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return [
            DatasetRow(
                id=row["id"],
                created_on=datetime.fromisoformat(row["created_on"]),
                item=LabelledItem(
                    title=row["title"] or "", description=row["description"] or "", tag=row["tag"].strip()
                ),
            )
            for row in reader
        ]
