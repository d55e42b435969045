"""Issue 15, bug 7: a CSV row may leave out the trailing optional tag, as spreadsheets write it, and
``import_content`` tells scripts by its exit code whether every row was imported."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from labeling.models import Content
from labeling.parsing import parse_content_bytes
from tests.conftest import REPO, _database_url

TAGS = {"natural-language-processing", "computer-vision", "mlops", "other"}
HEADER = "id,created_on,title,description,tag\n"


def _parse(text):
    return parse_content_bytes(text.encode(), fmt="csv", tags=TAGS)


def test_a_row_without_the_trailing_optional_tag_is_an_untagged_item():
    parsed = _parse(HEADER + "1,2020-01-01,Tagged,d,mlops\n2,2020-01-01,Untagged,d\n3,2020-01-01,Empty tag,d,\n")
    assert [(row.external_id, row.tag) for row in parsed.rows] == [("1", "mlops"), ("2", None), ("3", None)]
    assert parsed.errors == []


def test_a_row_short_of_a_required_field_or_long_by_one_is_still_rejected():
    parsed = _parse(HEADER + "1,2020-01-01,No description\n2,2020-01-01,Long,d,mlops,extra\n")
    assert parsed.rows == []
    assert [str(error) for error in parsed.errors] == [
        "line 2: expected 5 fields (4 without the optional tag), found 3",
        "line 3: expected 5 fields (4 without the optional tag), found 6",
    ]


def test_only_a_trailing_optional_column_may_be_left_out():
    parsed = _parse("tag,id,created_on,title,description\n1,2020-01-01,Moved,d\n")
    assert parsed.rows == [] and [str(error) for error in parsed.errors] == ["line 2: expected 5 fields, found 4"]


@pytest.mark.django_db
def test_the_command_fails_with_code_3_when_rows_were_rejected_and_imports_the_rest(tags, tmp_path, capsys):
    path = tmp_path / "items.csv"
    path.write_text(HEADER + "1,2020-01-01,Good,d,mlops\n2,2020-01-01,,no title,mlops\n")
    with pytest.raises(CommandError, match="1 row rejected") as raised:
        call_command("import_content", str(path))
    assert raised.value.returncode == 3
    assert "created 1, updated 0, unchanged 0, rejected 1" in capsys.readouterr().out
    assert list(Content.objects.values_list("external_id", flat=True)) == ["1"]


@pytest.mark.django_db(transaction=True)
def test_exit_status_of_the_real_command(tags, tmp_path):
    """As a script sees it: 0 when every row was imported, 3 when some were rejected, 1 when nothing could be."""
    env = {**os.environ, "DATABASE_URL": _database_url()}
    good, mixed, broken = tmp_path / "good.csv", tmp_path / "mixed.csv", tmp_path / "broken.csv"
    good.write_text(HEADER + "1,2020-01-01,A,d,mlops\n2,2020-01-01,B,d\n")
    mixed.write_text(HEADER + "3,2020-01-01,C,d,mlops\n4,2020-01-01,D,d,robotics\n")
    broken.write_text("id,title\n5,E\n")

    def status(path, *extra):
        return subprocess.run(
            [sys.executable, "manage.py", "import_content", str(path), *extra],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        ).returncode

    assert [status(good), status(mixed), status(broken)] == [0, 3, 1]
    assert status(mixed, "--strict") == 1
    assert sorted(Content.objects.values_list("external_id", flat=True)) == ["1", "2", "3"]
