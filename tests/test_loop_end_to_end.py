"""The whole loop on real services: a real Celery worker process, HTTP, and the commands.

import the dataset -> retrain on the worker -> promote -> new content is predicted ->
a low-confidence item is reviewed -> a report is accepted -> the next retrain's
training set holds the corrected labels.
"""

import csv
import io
import re

import pytest
import requests
from django.core.management import call_command

from labeling.models import Content, GoldLabel, Provenance, ReviewStatus, ReviewTask, Split
from predictions.models import ModelStatus, ModelVersion, Prediction
from predictions.selectors import training_set_of
from tests.conftest import DATASET, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STREAM_SIZE = 120


def _split_dataset(tmp_path):
    """Older items with their tags (history), newest items without (the stream)."""
    with DATASET.open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: row["created_on"])
    history, stream = rows[:-STREAM_SIZE], rows[-STREAM_SIZE:]
    paths = {}
    for name, part, keep_tag in (("history", history, True), ("stream", stream, False)):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["id", "created_on", "title", "description", "tag"])
        writer.writeheader()
        for row in part:
            writer.writerow({**row, "tag": row["tag"] if keep_tag else ""})
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(buffer.getvalue(), encoding="utf-8")
    return paths, {row["id"]: row["tag"] for row in stream}


def _train_on_worker(capsys) -> ModelVersion:
    call_command("train", "--wait", "--timeout", "240")
    number = int(capsys.readouterr().out.strip().splitlines()[-1])
    return ModelVersion.objects.get(number=number)


def _login(base_url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/")
    token = _csrf_token(page.text)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base_url}/accounts/login/"},
    )
    assert response.ok and "Log out" in response.text
    return session


def _csrf_token(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _post_form(session: requests.Session, base_url: str, page_path: str, action_path: str, data: dict):
    page = session.get(base_url + page_path)
    token = _csrf_token(page.text)
    return session.post(
        base_url + action_path, data={**data, "csrfmiddlewaretoken": token}, headers={"Referer": base_url + page_path}
    )


def test_the_loop_learns_from_reviews_and_reports(
    celery_worker_process, live_server, settings, tags, annotator, tmp_path, capsys
):
    settings.MODEL_DIR = celery_worker_process["model_dir"]
    base = live_server.url
    paths, stream_truth = _split_dataset(tmp_path)

    # 1. Import history with gold labels.
    call_command("import_content", str(paths["history"]), "--source", "mwml")
    assert GoldLabel.objects.count() == 764 - STREAM_SIZE

    # 2. Retrain on the worker; it reports progress and metrics on the version row.
    first = _train_on_worker(capsys)
    assert first.status == ModelStatus.CANDIDATE and first.progress == 100
    assert first.training_label_count == GoldLabel.objects.filter(split=Split.TRAIN).count()
    assert first.holdout_count == GoldLabel.objects.filter(split=Split.HOLDOUT).count()
    assert first.metrics["overall"]["f1"] > 0.7 and len(first.artifact_sha256) == 64

    # 3. Promote; the stream then arrives and the worker predicts it after commit.
    call_command("promote", str(first.number))
    call_command("import_content", str(paths["stream"]), "--source", "mwml")
    stream_ids = list(Content.objects.filter(gold_label__isnull=True).values_list("pk", flat=True))
    assert len(stream_ids) == STREAM_SIZE
    wait_until(
        lambda: Prediction.objects.filter(content_id__in=stream_ids, model_version=first).count() == STREAM_SIZE,
        message="the worker to predict the stream",
    )
    call_command("predict_batch", "--wait", "--timeout", "120")
    assert Prediction.objects.filter(model_version=first).count() == Content.objects.count()
    shown = Content.objects.get(pk=stream_ids[0])
    assert shown.current_tag_origin == "model" and shown.current_model_version == first.number

    # Online prediction over HTTP, and a 400 that names the field.
    answer = requests.post(f"{base}/api/v1/predict", json={"title": "YOLO object detection", "description": "images"})
    assert answer.status_code == 200 and answer.json()["model_version"] == first.number
    assert answer.json()["tag"] == "computer-vision"
    bad = requests.post(f"{base}/api/v1/predict", json={"description": "no title"})
    assert bad.status_code == 400 and "title" in bad.json()

    # 4. An annotator reviews the least confident stream item in the browser flow.
    low = ReviewTask.objects.filter(reason="low_confidence", status=ReviewStatus.OPEN)
    assert low.exists(), "no prediction fell below the review threshold"
    session = _login(base, annotator.username, "pw-" + annotator.username)
    start = _post_form(session, base, "/review/", "/review/start", {})
    task_id = int(re.search(r"/review/task/(\d+)/", start.url).group(1))
    task = ReviewTask.objects.get(pk=task_id)
    assert task.reason == "low_confidence" and task.content.title in start.text
    true_tag = stream_truth[task.content.external_id]
    _post_form(session, base, f"/review/task/{task_id}/", f"/review/task/{task_id}/answer", {"tag": true_tag})
    reviewed = GoldLabel.objects.get(content=task.content)
    assert (reviewed.tag.slug, reviewed.provenance, reviewed.split) == (true_tag, Provenance.ANNOTATOR, Split.TRAIN)

    # 5. An anonymous end user reports a wrong tag on a training item; the annotator accepts it.
    target = GoldLabel.objects.filter(split=Split.TRAIN, provenance=Provenance.IMPORTED, tag__slug="mlops").first()
    report = requests.post(
        f"{base}/api/v1/content/{target.content_id}/reports",
        json={"suggested_tag": "other", "comment": "not about operations"},
    )
    assert report.status_code == 201 and report.json()["status"] == "open"
    report_task = ReviewTask.objects.get(content_id=target.content_id, reason="report", status=ReviewStatus.OPEN)
    page = session.get(f"{base}/review/task/{report_task.pk}/")
    assert "not about operations" in page.text
    _post_form(
        session, base, f"/review/task/{report_task.pk}/", f"/review/task/{report_task.pk}/answer", {"tag": "other"}
    )
    corrected = GoldLabel.objects.get(pk=target.pk)
    assert (corrected.tag.slug, corrected.provenance) == ("other", Provenance.REPORT)

    # 6. The next retrain's training set contains both human decisions.
    second = _train_on_worker(capsys)
    training = training_set_of(model_version=second)
    assert training[target.content_id] == "other"
    assert training[task.content_id] == true_tag
    assert training_set_of(model_version=first)[target.content_id] == "mlops"
    assert second.training_data_hash != first.training_data_hash
