"""A review task a person holds when a new model is promoted shows the new model's numbers, claim kept.

On real services: the first model (a majority baseline, unsure of everything) opened the tasks in
this process; the second is trained and promoted through the worker, whose re-prediction must give
the held tasks its numbers without taking them from the annotators. The annotator who answers from
the page the old model filled is told what the new one says, and the answer stands.
"""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from labeling.models import Annotation, Content, ReviewStatus, ReviewTask
from predictions.models import ModelVersion, Prediction
from predictions.services import predictions_create
from tests.conftest import wait_until
from tests.factories import make_content, make_gold_dataset
from tests.test_loop_end_to_end import _login

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _train(capsys, algorithm: str) -> ModelVersion:
    call_command("train", "--wait", "--timeout", "240", "--algorithm", algorithm)
    return ModelVersion.objects.get(number=int(capsys.readouterr().out.strip().splitlines()[-1]))


def _hold(task: ReviewTask, user) -> ReviewTask:
    ReviewTask.objects.filter(pk=task.pk).update(assignee=user, lease_expires_at=timezone.now() + timedelta(hours=1))
    return ReviewTask.objects.get(pk=task.pk)


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"the page has no {name}"
    return found.group(1)


def test_a_held_task_takes_the_promoted_models_numbers_and_keeps_its_claim(
    celery_worker_process, live_server, settings, tags, annotator, second_annotator, capsys
):
    settings.MODEL_DIR = celery_worker_process["model_dir"]
    # No audit draws in this process: an audited item's task would be blind (no numbers, no shown version),
    # and which ids are drawn depends on the ids earlier tests used (a quarter during the trust warm-up).
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    make_gold_dataset(tags)
    first = _train(capsys, "majority")
    call_command("promote", str(first.number), "--override-reason", "a baseline to start from")
    items = {
        "mixed": make_content(title="language models for image captions in production pipelines"),
        "plain": make_content(title="object detection in video frames", description="A note on detection."),
        "plain, nobody holds it": make_content(title="face recognition from photos", description="Faces."),
    }
    predictions_create(model_version_id=first.pk, content_ids=[item.pk for item in items.values()])
    tasks = {name: ReviewTask.objects.get(content=item, status=ReviewStatus.OPEN) for name, item in items.items()}
    assert {task.model_version for task in tasks.values()} == {first.number}
    held = {"mixed": _hold(tasks["mixed"], annotator), "plain": _hold(tasks["plain"], second_annotator)}

    # The annotator opens the item while the first model's numbers are on it.
    session = _login(live_server.url, annotator.username, "pw-" + annotator.username)
    page = session.get(f"{live_server.url}/review/task/{tasks['mixed'].pk}/")
    assert f"model v{first.number}" in page.text and _hidden(page.text, "shown_version") == str(first.number)
    csrf = _hidden(page.text, "csrfmiddlewaretoken")

    second = _train(capsys, "tfidf-linear")
    call_command("promote", str(second.number))
    wait_until(
        lambda: (
            set(
                Content.objects.filter(pk__in=[i.pk for i in items.values()]).values_list(
                    "current_model_version", flat=True
                )
            )
            == {second.number}
        ),
        message="the worker to re-predict the items with the promoted model",
    )

    for name, before in held.items():
        task = ReviewTask.objects.get(pk=before.pk)
        now = Prediction.objects.get(model_version=second, content_id=task.content_id)
        assert (task.status, task.assignee_id, task.lease_expires_at) == (
            ReviewStatus.OPEN,
            before.assignee_id,
            before.lease_expires_at,
        ), name
        assert (task.model_version, task.probabilities) == (second.number, now.probabilities), name
        assert task.predicted_tag == now.tag.slug, name
    # The plain item is sure now: the task nobody held is gone, the held one stayed (with the new numbers).
    assert ReviewTask.objects.get(pk=tasks["plain, nobody holds it"].pk).status == ReviewStatus.CANCELLED

    # A reload shows the promoted model's numbers.
    reloaded = session.get(f"{live_server.url}/review/task/{tasks['mixed'].pk}/")
    assert f"model v{second.number}" in reloaded.text and f"model v{first.number}" not in reloaded.text
    # The answer sent from the page the first model filled is saved, and says what changed.
    answered = session.post(
        f"{live_server.url}/review/task/{tasks['mixed'].pk}/answer",
        data={"tag": "computer-vision", "shown_version": str(first.number), "csrfmiddlewaretoken": csrf},
        headers={"Referer": page.url},
    )
    assert answered.ok and "Saved: computer-vision" in answered.text
    assert f"model v{second.number} re-predicted this item" in answered.text
    assert Annotation.objects.get(review_task=tasks["mixed"]).tag.slug == "computer-vision"
