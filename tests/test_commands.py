"""The model commands that do not need a worker: evaluate, promote, argument errors."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from labeling.models import Content, GoldLabel
from predictions.models import ModelStatus, ModelVersion
from tests.conftest import DATASET
from tests.factories import make_active_model, make_candidate

pytestmark = pytest.mark.django_db


def test_evaluate_prints_metrics_as_json_and_stores_nothing(tags, model_dir, capsys, tmp_path):
    version = make_active_model(tags)
    before = Content.objects.count()
    call_command("evaluate", "--data", str(DATASET))
    metrics = json.loads(capsys.readouterr().out)
    assert Content.objects.count() == before
    assert metrics["n"] == 764 and metrics["model_version"] == version.number
    assert set(metrics["overall"]) >= {"precision", "recall", "f1"}
    assert set(metrics["per_class"]) == set(tags)
    assert {"short_text", "nlp_llm"} <= set(metrics["slices"])
    assert 0 < metrics["overall"]["f1"] <= 1


def test_evaluate_a_named_version_and_refuse_unknown_ones(tags, model_dir, capsys, tmp_path):
    version = make_active_model(tags)
    path = tmp_path / "few.jsonl"
    path.write_text(
        '{"id": 1, "created_on": "2021-01-01", "title": "Image segmentation", "description": "pixels", "tag": "computer-vision"}\n'
        '{"id": 2, "created_on": "2021-01-01", "title": "No tag here", "description": ""}\n'
    )
    call_command("evaluate", "--model", str(version.number), "--data", str(path))
    captured = capsys.readouterr()
    assert json.loads(captured.out)["n"] == 1 and "1 row(s) without a tag skipped" in captured.err
    with pytest.raises(CommandError, match="no model version 99"):
        call_command("evaluate", "--model", "99", "--data", str(path))


def test_evaluate_without_an_active_model_says_what_to_do(tags, tmp_path):
    with pytest.raises(CommandError, match="no active model"):
        call_command("evaluate", "--data", str(DATASET))


def test_promote_refuses_versions_that_are_not_trained(tags):
    ModelVersion.objects.create(number=1, algorithm="tfidf-linear", status=ModelStatus.FAILED)
    with pytest.raises(CommandError, match="only a trained candidate"):
        call_command("promote", "1")
    with pytest.raises(CommandError, match="no model version 7"):
        call_command("promote", "7")


def test_promoting_retires_the_previous_active_model(tags, model_dir):
    make_active_model(tags)
    second = make_candidate()
    call_command("promote", "2")
    assert dict(ModelVersion.objects.values_list("number", "status")) == {1: "retired", 2: "active"}
    second.refresh_from_db()
    assert second.promoted_at is not None


def test_train_rejects_an_unknown_algorithm(tags):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("train", "--algorithm", "magic")
    assert not ModelVersion.objects.exists()


def test_admin_import_upload_reports_bad_rows_with_line_numbers(client, admin_user, tags):
    client.force_login(admin_user)
    upload = SimpleUploadedFile(
        "items.csv", b"id,created_on,title,description,tag\n1,2020-01-01,A,d,mlops\n2,2020-01-01,,d,mlops\n"
    )
    response = client.post(reverse("admin:labeling_content_import"), {"file": upload, "source": "ui"}, follow=True)
    page = response.content.decode()
    assert "created 1, updated 0, unchanged 0, rejected 1" in page
    assert "line 3: missing title" in page
    assert GoldLabel.objects.filter(content__source="ui").count() == 1


def test_admin_import_of_a_file_without_columns_writes_nothing(client, admin_user, tags):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("items.csv", b"id,title\n1,A\n")
    response = client.post(reverse("admin:labeling_content_import"), {"file": upload, "source": "ui"}, follow=True)
    assert "missing required column" in response.content.decode()
    assert not Content.objects.exists()


def test_admin_retrain_button_queues_a_version(client, admin_user, tags):
    client.force_login(admin_user)
    response = client.post(reverse("admin:predictions_modelversion_retrain"), {"algorithm": "rules", "notes": "try"})
    assert response.status_code == 302
    version = ModelVersion.objects.get()
    assert (version.algorithm, version.status, version.created_by, version.notes) == (
        "rules",
        "queued",
        admin_user,
        "try",
    )


def test_bench_retrain_refuses_a_row_without_a_tag_before_writing_anything(tags, tmp_path):
    # Every row of the file becomes gold labels: one without a tag used to fail with KeyError: None
    # after the content rows were written.
    path = tmp_path / "untagged.csv"
    path.write_text(
        "id,created_on,title,description,tag\n"
        "1,2021-01-01,Image segmentation,pixels to regions,computer-vision\n"
        "2,2021-01-01,No tag here,a description,\n"
    )
    with pytest.raises(CommandError, match=r"untagged\.csv line 3: no tag"):
        call_command("bench_retrain", "--labels", "4", "--algorithm", "tfidf-linear", "--data", str(path), "--yes")
    assert not Content.objects.filter(source="bench-gold").exists()
