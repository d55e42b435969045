"""Import: parsing with line numbers, idempotent upserts, gold labels and their splits."""

import json
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from labeling.models import Content, GoldLabel, Provenance, Split
from labeling.parsing import ImportFileError, parse_content_bytes
from labeling.services import content_import
from tests.conftest import DATASET

TAGS = {"natural-language-processing", "computer-vision", "mlops", "other"}
HEADER = "id,created_on,title,description,tag\n"


def parse_csv(text: str):
    return parse_content_bytes(text.encode(), fmt="csv", tags=TAGS)


def test_csv_rows_keep_their_physical_line_numbers_across_multiline_fields():
    parsed = parse_csv(HEADER + '1,2020-01-01,A,"two\nlines",mlops\n2,2020-01-02,B,one line,other\n')
    assert [(row.line, row.external_id) for row in parsed.rows] == [(2, "1"), (4, "2")]
    assert parsed.rows[0].description == "two\nlines"


def test_bad_rows_are_reported_with_line_and_reason():
    text = (
        HEADER
        + "1,2020-01-01,,no title,mlops\n"
        + "2,2020-01-01,Title,desc,robotics\n"
        + "3,not-a-date,Title,desc,mlops\n"
        + "4,2020-01-01,Good,desc,mlops\n"
        + "4,2020-01-01,Again,desc,mlops\n"
    )
    parsed = parse_csv(text)
    assert [row.external_id for row in parsed.rows] == ["4"]
    reasons = {error.line: error.reason for error in parsed.errors}
    assert "missing title" in reasons[2]
    assert "unknown tag 'robotics'" in reasons[3]
    assert "bad date" in reasons[4]
    assert "duplicate id '4' (first on line 5)" in reasons[6]


def test_a_badly_encoded_row_is_rejected_and_the_others_kept():
    data = (HEADER + "1,2020-01-01,Caf\xe9,ok,mlops\n").encode("latin-1") + b"2,2020-01-01,Fine,ok,mlops\n"
    parsed = parse_content_bytes(data, fmt="csv", tags=TAGS)
    assert [row.external_id for row in parsed.rows] == ["2"]
    assert parsed.errors[0].line == 2 and "not valid UTF-8" in parsed.errors[0].reason


def test_missing_columns_fail_the_whole_file():
    with pytest.raises(ImportFileError, match="missing required column.*created_on"):
        parse_csv("id,title,description\n1,A,b\n")


def test_json_list_and_jsonl_give_line_numbers():
    items = [
        {"id": 1, "created_on": "2020-01-01", "title": "A", "description": "", "tag": "mlops"},
        {"id": 2, "created_on": "2020-01-01", "title": "", "description": "", "tag": "mlops"},
    ]
    parsed = parse_content_bytes(json.dumps(items, indent=1).encode(), fmt="json", tags=TAGS)
    assert [row.external_id for row in parsed.rows] == ["1"]
    assert parsed.errors[0].line == 9 and "missing title" in parsed.errors[0].reason
    jsonl = "\n".join(json.dumps(item) for item in items) + "\n{broken\n"
    parsed = parse_content_bytes(jsonl.encode(), fmt="jsonl", tags=TAGS)
    assert [(error.line, error.reason.split(" ")[0]) for error in parsed.errors] == [(2, "missing"), (3, "invalid")]


@pytest.mark.django_db
def test_import_command_is_idempotent_and_prints_a_summary(tags, capsys):
    call_command("import_content", str(DATASET), "--source", "mwml")
    first = capsys.readouterr().out
    assert "created 764, updated 0, unchanged 0, rejected 0" in first
    call_command("import_content", str(DATASET), "--source", "mwml")
    assert "created 0, updated 0, unchanged 764, rejected 0" in capsys.readouterr().out
    assert Content.objects.count() == 764
    assert GoldLabel.objects.filter(provenance=Provenance.IMPORTED).count() == 764


@pytest.mark.django_db
def test_changed_rows_are_updated_and_bad_rows_reported(tags, tmp_path, capsys):
    path = tmp_path / "items.csv"
    path.write_text(HEADER + "1,2020-01-01,Old title,d,mlops\n")
    call_command("import_content", str(path))
    path.write_text(HEADER + "1,2020-01-01,New title,d,mlops\n2,2020-01-01,,d,mlops\n")
    with pytest.raises(CommandError, match="1 row rejected"):
        call_command("import_content", str(path))
    captured = capsys.readouterr()
    assert "created 0, updated 1, unchanged 0, rejected 1" in captured.out
    assert "items.csv: line 3: missing title" in captured.err
    assert Content.objects.get(external_id="1").title == "New title"


@pytest.mark.django_db
def test_a_file_without_required_columns_writes_nothing(tags, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,title\n1,A\n")
    with pytest.raises(CommandError, match="missing required column"):
        call_command("import_content", str(path))
    assert Content.objects.count() == 0


@pytest.mark.django_db
def test_strict_mode_writes_nothing_when_a_row_is_bad(tags, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(HEADER + "1,2020-01-01,A,d,mlops\n2,2020-01-01,B,d,nope\n")
    with pytest.raises(CommandError, match="--strict"):
        call_command("import_content", str(path), "--strict")
    assert Content.objects.count() == 0


@pytest.mark.django_db
def test_splits_are_stratified_by_tag_deterministic_and_assigned_once(tags, settings):
    settings.TAGLOOP_HOLDOUT_SHARE = 0.2
    parsed = parse_content_bytes(DATASET.read_bytes(), fmt="csv", tags=TAGS)
    content_import(rows=parsed.rows, source="a")
    per_tag = Counter(GoldLabel.objects.values_list("tag__slug", "split"))
    for tag in TAGS:
        total = per_tag[(tag, Split.TRAIN)] + per_tag[(tag, Split.HOLDOUT)]
        assert abs(per_tag[(tag, Split.HOLDOUT)] - 0.2 * total) <= 1, tag
    first = dict(GoldLabel.objects.values_list("content__external_id", "split"))
    settings.TAGLOOP_HOLDOUT_SHARE = 0.5
    content_import(rows=parsed.rows, source="a")
    assert dict(GoldLabel.objects.values_list("content__external_id", "split")) == first  # assigned once
    Content.objects.all().delete()
    settings.TAGLOOP_HOLDOUT_SHARE = 0.2
    content_import(rows=list(reversed(parsed.rows)), source="a")
    # The same items get the same splits whatever the order, on any machine.
    assert dict(GoldLabel.objects.values_list("content__external_id", "split")) == first


@pytest.mark.django_db
def test_reimport_never_overwrites_a_human_decision(tags, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(HEADER + "1,2020-01-01,A,d,mlops\n")
    call_command("import_content", str(path))
    GoldLabel.objects.update(tag=tags["other"], provenance=Provenance.ANNOTATOR)
    path.write_text(HEADER + "1,2020-01-01,A,d,computer-vision\n")
    call_command("import_content", str(path))
    label = GoldLabel.objects.get()
    assert (label.tag.slug, label.provenance) == ("other", Provenance.ANNOTATOR)


@pytest.mark.django_db
def test_imported_gold_labels_are_shown_on_content(tags, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(HEADER + "1,2020-01-01,A,d,mlops\n2,2020-01-01,B,d,\n")
    call_command("import_content", str(path))
    shown = dict(Content.objects.values_list("external_id", "current_tag__slug"))
    assert shown == {"1": "mlops", "2": None}


def test_a_nul_character_rejects_its_row_with_line_and_field():
    # PostgreSQL cannot store U+0000 in text, so it must never reach the database.
    text = HEADER + "1,2020-01-01,Good,ok,mlops\n2,2020-01-01,Bad,has \x00 nul,mlops\n"
    parsed = parse_csv(text)
    assert [row.external_id for row in parsed.rows] == ["1"]
    assert [str(error) for error in parsed.errors] == ["line 3: field 'description' contains a NUL character"]
    jsonl = json.dumps({"id": 1, "created_on": "", "title": "a\x00b", "description": ""}) + "\n"
    [error] = parse_content_bytes(jsonl.encode(), fmt="jsonl", tags=TAGS).errors
    assert str(error) == "line 1: field 'title' contains a NUL character"


@pytest.mark.django_db
def test_import_command_reports_a_nul_character_by_line_and_imports_the_rest(tags, tmp_path, capsys):
    path = tmp_path / "nul.csv"
    path.write_text(HEADER + "1,2020-01-01,Good,d,mlops\n2,2020-01-01,Nul\x00here,d,mlops\n")
    with pytest.raises(CommandError, match="1 row rejected"):
        call_command("import_content", str(path))
    captured = capsys.readouterr()
    assert "line 3: field 'title' contains a NUL character" in captured.err
    assert "created 1, updated 0, unchanged 0, rejected 1" in captured.out
    assert list(Content.objects.values_list("external_id", flat=True)) == ["1"]


@pytest.mark.django_db
def test_admin_import_reports_a_nul_character_by_line(client, admin_user, tags):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("nul.csv", (HEADER + "1,2020-01-01,Nul\x00here,d,mlops\n").encode())
    response = client.post(reverse("admin:labeling_content_import"), {"file": upload, "source": "ui"}, follow=True)
    assert response.status_code == 200
    assert "line 2: field &#x27;title&#x27; contains a NUL character" in response.content.decode()
    assert not Content.objects.exists()


def test_a_field_over_csvs_default_size_limit_does_not_stop_the_reader():
    # csv's own limit is 128 KB; the model's limits decide, as for JSON and JSONL.
    big = "x" * 200_000
    text = (
        HEADER
        + "1,2020-01-01,A,d,mlops\n"
        + f'2,2020-01-01,"{big}",d,mlops\n'
        + f'3,2020-01-01,B,"{big}",mlops\n'
        + "4,2020-01-01,C,d,mlops\n"
    )
    parsed = parse_csv(text)
    assert [row.external_id for row in parsed.rows] == ["1", "3", "4"]
    assert parsed.rows[1].description == big
    assert [str(error) for error in parsed.errors] == ["line 3: title longer than 1000 characters"]


def test_jsonl_splits_on_newlines_only_so_unicode_line_separators_stay_in_their_strings():
    first = {"id": 1, "created_on": "", "title": "a\u2028b\u2029c", "description": "d\x85e\x0bf\x1cg", "tag": "mlops"}
    second = {"id": 2, "created_on": "", "title": "Plain", "description": "", "tag": "mlops"}
    jsonl = json.dumps(first, ensure_ascii=False) + "\r\n" + json.dumps(second) + "\r\n{broken\r\n"
    parsed = parse_content_bytes(jsonl.encode(), fmt="jsonl", tags=TAGS)
    assert [(row.line, row.external_id) for row in parsed.rows] == [(1, "1"), (2, "2")]
    assert parsed.rows[0].description == "d\x85e\x0bf\x1cg"
    assert [error.line for error in parsed.errors] == [3]


def test_json_list_errors_keep_their_line_numbers_however_the_file_is_laid_out():
    good = '{"id": 1, "created_on": "", "title": "A", "description": "", "tag": "mlops"}'
    text = (
        "[\n\n"
        + good
        + ",\n"  # line 3
        + '{"id": 2,\n "created_on": "",\n "title": ""},'  # lines 4-6
        + ' 7, {"id": 3, "created_on": "", "title": "B", "description": "", "tag": "x"}\n\n'  # line 6
        + '  {"id": 4,\n"title": "C"}\n]\n'  # lines 8-9: no ',' before it
    )
    with pytest.raises(ImportFileError, match=r"^line 8: invalid JSON \(expected ',' or '\]'\)"):
        parse_content_bytes(text.encode(), fmt="json", tags=TAGS)
    parsed = parse_content_bytes(text.replace("\n\n  {", ",\n\n  {").encode(), fmt="json", tags=TAGS)
    assert [(error.line, error.reason.split(" ")[0]) for error in parsed.errors] == [
        (4, "missing"),
        (6, "expected"),
        (6, "unknown"),
        (8, "missing"),
    ]
    assert [row.line for row in parsed.rows] == [3]


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
@pytest.mark.parametrize("data", [b"", b" \n\r\n"])
def test_an_empty_file_is_the_same_clear_error_in_every_format(fmt, data):
    with pytest.raises(ImportFileError, match="^the file is empty"):
        parse_content_bytes(data, fmt=fmt, tags=TAGS)


def test_a_duplicated_csv_column_is_an_error_naming_it():
    with pytest.raises(ImportFileError, match="^line 1: column 'id' appears more than once"):
        parse_csv("id,ID,created_on,title,description\n1,2,2020-01-01,A,d\n")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["items.txt", "missing.csv"])
def test_import_command_names_the_file_once_in_a_file_error(tags, tmp_path, name):
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text(HEADER)
    with pytest.raises(CommandError) as raised:
        call_command("import_content", str(path))
    assert str(raised.value).count(name) == 1, str(raised.value)


def _admin_import(client, name, body, **fields):
    upload = SimpleUploadedFile(name, body.encode())
    return client.post(
        reverse("admin:labeling_content_import"), {"file": upload, "source": "ui", **fields}, follow=True
    ).content.decode()


@pytest.mark.django_db
def test_admin_import_banner_level_follows_the_outcome_and_keeps_the_file_name(client, admin_user, tags):
    client.force_login(admin_user)
    page = _admin_import(client, "items.csv", HEADER + "1,2020-01-01,A,d,mlops\n")
    assert '<li class="success">Imported items.csv: created 1,' in page
    page = _admin_import(client, "items.csv", HEADER + "2,2020-01-01,B,d,mlops\n3,2020-01-01,,d,mlops\n")
    assert '<li class="warning">Imported items.csv: created 1,' in page and "rejected 1" in page
    page = _admin_import(client, "items.csv", HEADER + "4,2020-01-01,,d,mlops\n")
    assert '<li class="error">Nothing was imported from items.csv: ' in page
    page = _admin_import(client, "items.txt", HEADER)
    assert '<li class="error">Nothing was imported from items.txt: unknown file type' in page


@pytest.mark.django_db
def test_a_strict_import_writes_nothing_when_a_row_is_rejected(tags):
    parsed = parse_csv(HEADER + "1,2020-01-01,A,d,mlops\n2,2020-01-01,B,d,nope\n")
    summary = content_import(rows=parsed.rows, source="s", errors=parsed.errors, strict=True)
    assert (summary.refused, summary.created, summary.rejected) == (True, 0, 1)
    assert "none of the 1 valid row(s) was imported" in summary.as_line()
    assert not Content.objects.exists()
    summary = content_import(rows=parsed.rows[:1], source="s", strict=True)
    assert (summary.refused, summary.created) == (False, 1)


@pytest.mark.django_db
def test_admin_import_can_be_all_or_nothing(client, admin_user, tags):
    client.force_login(admin_user)
    body = HEADER + "1,2020-01-01,A,d,mlops\n2,2020-01-01,B,d,nope\n"
    assert (
        "Import nothing if any row is invalid" in client.get(reverse("admin:labeling_content_import")).content.decode()
    )
    page = _admin_import(client, "items.csv", body, strict="on")
    assert '<li class="error">Nothing was imported from items.csv: rejected 1, so none of the 1 valid' in page
    assert "line 3: unknown tag &#x27;nope&#x27;" in page
    assert not Content.objects.exists() and not GoldLabel.objects.exists()
    _admin_import(client, "items.csv", body)
    assert list(Content.objects.values_list("external_id", flat=True)) == ["1"]


def test_a_lone_surrogate_rejects_its_row_with_line_and_field():
    jsonl = '{"id": 1, "created_on": "", "title": "lone \\ud800 here", "description": ""}\n'
    parsed = parse_content_bytes(jsonl.encode(), fmt="jsonl", tags=TAGS)
    assert not parsed.rows
    assert [str(error) for error in parsed.errors] == [
        "line 1: field 'title' contains a lone surrogate (U+D800), half of a character"
    ]


def test_an_unclosed_quote_refuses_the_file_naming_the_line_instead_of_swallowing_the_rest():
    text = HEADER + '1,2021-01-01,A,d,mlops\n2,2021-01-01,B,"Unclosed quote,mlops\n3,2021-01-01,C,d,mlops\n'
    with pytest.raises(ImportFileError, match="^line 3: a quoted field starts here and is never closed$"):
        parse_csv(text)


def test_jsonl_lines_may_end_with_a_carriage_return_alone():
    records = [{"id": n, "created_on": "", "title": f"T{n}", "description": "", "tag": "mlops"} for n in (1, 2)]
    text = "".join(json.dumps(record) + "\r" for record in records)
    parsed = parse_content_bytes(text.encode(), fmt="jsonl", tags=TAGS)
    assert [(row.line, row.external_id) for row in parsed.rows] == [(1, "1"), (2, "2")] and not parsed.errors


def test_a_json_list_on_one_line_names_each_bad_item_by_its_place():
    items = [
        {"id": 1, "created_on": "", "title": "A", "description": "", "tag": "mlops"},
        {"id": 2, "created_on": "", "title": "B", "description": "", "tag": "nope"},
        {"id": 1, "created_on": "", "title": "C", "description": "", "tag": "mlops"},
        7,
    ]
    parsed = parse_content_bytes(json.dumps(items).encode(), fmt="json", tags=TAGS)
    assert [row.external_id for row in parsed.rows] == ["1"]
    messages = [str(error) for error in parsed.errors]
    assert messages[0].startswith("line 1, item 2: ") and "nope" in messages[0]
    assert messages[1:] == [
        "line 1, item 3: duplicate id '1' (first on line 1, item 1)",
        "line 1, item 4: expected an object, found int",
    ]


@pytest.mark.parametrize(
    "data,hint",
    [
        (b"id;created_on;title;description\n1;2020-01-01;A;d\n", "separated by ';', not commas"),
        (b"id\tcreated_on\ttitle\tdescription\n", "separated by '\\t', not commas"),
        ("id,created_on,title,description\n".encode("utf-16"), "looks UTF-16 encoded: save it as UTF-8"),
    ],
)
def test_a_header_from_a_spreadsheets_other_export_says_what_to_change(data, hint):
    with pytest.raises(ImportFileError, match="missing required column") as error:
        parse_content_bytes(data, fmt="csv", tags=TAGS)
    assert hint in str(error.value)


def test_invalid_json_says_where_on_the_line_in_words_that_end():
    # json's own messages end in "starting at" or "at" and leave the place to its str(): say the column.
    jsonl = '{"id": "1", "title": "ok", "created_on": "", "description": ""}\n{"id": "2", "title": "broken\n'
    parsed = parse_content_bytes(jsonl.encode(), fmt="jsonl", tags=TAGS)
    assert [str(error) for error in parsed.errors] == [
        "line 2: invalid JSON (Unterminated string starting at column 22)"
    ]
    text = '[{"id": "1", "title": "t"},\n {"id": "2", "title": "t2" "description": "d"}]'
    with pytest.raises(
        ImportFileError, match=r"^line 2, item 2: invalid JSON \(Expecting ',' delimiter at column 28\)$"
    ):
        parse_content_bytes(text.encode(), fmt="json", tags=TAGS)
