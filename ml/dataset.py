"""Read the Made With ML style CSV (id, created_on, title, description, tag)."""

import csv
from pathlib import Path

from ml.items import LabelledItem

REQUIRED_COLUMNS = ("title", "description", "tag")


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
            LabelledItem(title=row["title"] or "", description=row["description"] or "",
                         tag=row["tag"].strip())
            for row in reader
        ]
