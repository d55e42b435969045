"""Reading data/offtopic_samples.jsonl (ml.offtopic): every line checked, errors say where."""

import json

import pytest

from ml.offtopic import NEVER_TUNED, TUNING, by_kind, read_offtopic_samples


def write(tmp_path, lines):
    path = tmp_path / "samples.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def row(**fields):
    return json.dumps({"kind": "spam", "slice": TUNING, "title": "Buy now", "description": "cheap"} | fields)


def test_reads_samples_in_order_and_groups_them_by_kind(tmp_path):
    path = write(tmp_path, [row(), "", row(kind="recipes", slice=NEVER_TUNED), row(title="Free spins")])
    samples = read_offtopic_samples(path)
    assert [s.title for s in samples] == ["Buy now", "Buy now", "Free spins"]
    assert list(by_kind(samples)) == ["spam", "recipes"]
    assert by_kind(samples)["recipes"][0].slice == NEVER_TUNED


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        (row(title=3), "line 2: 'title' must be a string"),
        (row(kind=""), "line 2: 'kind' must not be empty"),
        (row(slice="train"), "line 2: 'slice' must be 'tuning' or 'never-tuned'"),
    ],
)
def test_a_bad_line_is_named_with_its_number_and_field(tmp_path, line, message):
    path = write(tmp_path, [row(), line])
    with pytest.raises(ValueError, match=message):
        read_offtopic_samples(path)


def test_the_shipped_file_reads():
    samples = read_offtopic_samples()
    assert len(samples) >= 200 and {s.slice for s in samples} == {TUNING, NEVER_TUNED}
