"""Data tests: the shipped dataset has the shape every other test and the benchmark assume."""

import csv
from datetime import datetime

import pytest

from ml.dataset import read_dataset_rows, read_labelled_csv

LABELS = {"computer-vision", "natural-language-processing", "mlops", "other"}


@pytest.fixture(scope="module")
def raw_rows(dataset_file):
    with dataset_file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def test_schema(raw_rows):
    columns, rows = raw_rows
    assert columns == ["id", "created_on", "title", "description", "tag"]
    assert len(rows) == 764


def test_ids_are_unique_integers(raw_rows):
    ids = [row["id"] for row in raw_rows[1]]
    assert all(i.isdigit() for i in ids)
    assert len(set(ids)) == len(ids)


def test_tags_are_within_the_label_set_and_all_present(raw_rows):
    assert {row["tag"] for row in raw_rows[1]} == LABELS


def test_no_empty_titles(raw_rows):
    assert all(row["title"].strip() for row in raw_rows[1])


def test_created_on_parses_and_spans_a_range(dataset_file):
    rows = read_dataset_rows(dataset_file)
    dates = [row.created_on for row in rows]
    assert all(isinstance(d, datetime) for d in dates)
    assert min(dates) < max(dates)


def test_dated_rows_agree_with_the_plain_reader(dataset_file):
    assert [row.item for row in read_dataset_rows(dataset_file)] == read_labelled_csv(dataset_file)


def test_dated_reader_names_missing_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("title,description,tag\nA,b,c\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column.*id.*created_on"):
        read_dataset_rows(path)
