"""Parquet is an optional extra: without pandas and pyarrow every Parquet path says what to install,
writes nothing, and the other formats keep working. (With them, tests/test_formats.py runs the Parquet
round trips.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from labeling.models import Content
from labeling.services.api_tokens import api_token_create
from tests.conftest import _database_url
from tests.missing_modules import missing_modules_prelude, modules_missing

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
HINT = "pip install -r requirements-formats.txt"
# Not a real Parquet file: the missing extra must be reported before the bytes are looked at.
PARQUET_BYTES = b"PAR1 not read"
ROWS = [{"id": "p1", "title": "Vision transformers", "text": "patches", "label": "computer-vision"}]


@pytest.fixture
def gold(tags, tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    call_command("import_content", str(path), "--format", "huggingface", "--source", "hf")
    return Content.objects.count()


@pytest.fixture
def without_parquet():
    with modules_missing("pandas", "pyarrow"):
        yield


def test_commands_name_the_extra_and_write_nothing(gold, tmp_path, without_parquet, capsys):
    output = tmp_path / "gold.parquet"
    with pytest.raises(CommandError, match=rf"nothing exported: Parquet needs pandas and pyarrow.*{HINT}"):
        call_command("export_gold", "--format", "huggingface-parquet", "--output", str(output))
    assert not output.exists()
    source = tmp_path / "train.parquet"
    source.write_bytes(PARQUET_BYTES)
    with pytest.raises(CommandError, match=rf"train\.parquet: Parquet needs.*{HINT}.*nothing was imported"):
        call_command("import_content", str(source), "--format", "huggingface", "--source", "new")
    assert Content.objects.count() == gold
    # JSON Lines needs neither package, in and out.
    call_command("export_gold", "--format", "huggingface", "--output", str(tmp_path / "gold.jsonl"))
    assert json.loads((tmp_path / "gold.jsonl").read_text())["id"] == "p1"
    assert "pandas" not in sys.modules and "pyarrow" not in sys.modules


def test_the_gold_page_and_the_api_answer_501_naming_the_extra(gold, client, reviewer, without_parquet):
    client.force_login(reviewer)
    page = client.get(reverse("labeling:gold-export", args=["huggingface-parquet"]))
    assert page.status_code == 501 and page["Content-Type"].startswith("text/plain")
    assert "Nothing exported. Parquet needs pandas and pyarrow" in page.content.decode()
    assert HINT in page.content.decode()
    _, key = api_token_create(user=reviewer, name="export script")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    answer = api.get(reverse("api-gold-label-export"), {"export_format": "huggingface-parquet"})
    assert answer.status_code == 501 and answer["Content-Type"] == "application/problem+json"
    assert HINT in answer.json()["detail"]
    jsonl = api.get(reverse("api-gold-label-export"), {"export_format": "huggingface"})
    assert jsonl.status_code == 200 and b"p1" in b"".join(jsonl.streaming_content)


def test_the_admins_import_form_names_the_extra_and_imports_nothing(gold, client, admin_user, without_parquet):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("train.parquet", PARQUET_BYTES)
    page = client.post(
        reverse("admin:labeling_content_import"), {"file": upload, "source": "ui", "format": "huggingface"}, follow=True
    )
    text = page.content.decode()
    assert "Nothing was imported from train.parquet: Parquet needs pandas and pyarrow" in text and HINT in text
    assert Content.objects.count() == gold


def test_a_process_without_the_packages_refuses_parquet_in_and_out(tags, tmp_path):
    """A fresh interpreter where pandas and pyarrow cannot be imported at all, running manage.py."""
    source = tmp_path / "train.parquet"
    source.write_bytes(PARQUET_BYTES)
    output = tmp_path / "out.parquet"

    def manage(*args: str) -> subprocess.CompletedProcess:
        code = missing_modules_prelude("pandas", "pyarrow") + (
            "import runpy\n"
            f"sys.argv = ['manage.py', *{list(args)!r}]\n"
            "try:\n"
            "    runpy.run_path('manage.py', run_name='__main__')\n"
            "finally:\n"
            "    assert 'pandas' not in sys.modules and 'pyarrow' not in sys.modules\n"
        )
        env = {**os.environ, "DATABASE_URL": _database_url()}
        return subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    imported = manage("import_content", str(source), "--format", "huggingface", "--source", "child")
    assert imported.returncode == 1 and HINT in imported.stderr and "nothing was imported" in imported.stderr
    exported = manage("export_gold", "--format", "huggingface-parquet", "--output", str(output))
    assert exported.returncode == 1 and HINT in exported.stderr and not output.exists()
