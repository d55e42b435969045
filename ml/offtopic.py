"""The hand-written off-topic samples (``data/offtopic_samples.jsonl``): what a public form receives besides ML content.

One JSON object per line: ``kind`` (spam, recipes, job-ads, ...), ``slice``, ``title`` and
``description``.  ``slice`` is ``tuning`` (the checks may be fitted or tuned on these kinds) or
``never-tuned`` (kinds kept out of all fitting and tuning, to measure the checks on text nobody
looked at while building them).  Written for tagloop by hand; none is copied from the dataset.
"""

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "offtopic_samples.jsonl"
TUNING, NEVER_TUNED = "tuning", "never-tuned"
_FIELDS = ("kind", "slice", "title", "description")


@dataclass(frozen=True)
class OfftopicSample:
    kind: str
    slice: str
    title: str
    description: str


def read_offtopic_samples(path: Path = DEFAULT_PATH) -> list[OfftopicSample]:
    """Every sample in file order; a bad line raises ValueError naming the file, the line and the field."""
    samples = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                samples.append(_parse(line, f"{path}, line {number}"))
    return samples


def _parse(line: str, where: str) -> OfftopicSample:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object")
    for field in _FIELDS:
        if not isinstance(row.get(field), str):
            raise ValueError(f"{where}: '{field}' must be a string")
    if not row["kind"]:
        raise ValueError(f"{where}: 'kind' must not be empty")
    if row["slice"] not in (TUNING, NEVER_TUNED):
        raise ValueError(f"{where}: 'slice' must be '{TUNING}' or '{NEVER_TUNED}', not {row['slice']!r}")
    return OfftopicSample(**{field: row[field] for field in _FIELDS})


def by_kind(samples: list[OfftopicSample]) -> dict[str, list[OfftopicSample]]:
    """Samples grouped by kind, kinds in file order."""
    groups: dict[str, list[OfftopicSample]] = defaultdict(list)
    for sample in samples:
        groups[sample.kind].append(sample)
    return dict(groups)
