"""The REST API over the data, used as scripts use it: with personal tokens, through the real services."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from labeling.models import GoldLabel, ReviewStatus, ReviewTask, TagOrigin, WrongTagReport
from labeling.services import PredictionSnapshot, review_task_open
from labeling.services.api_tokens import api_token_create
from predictions.models import ModelEvent, ModelStatus, ModelVersion
from predictions.services import model_version_train
from tests.factories import make_active_model, make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    _, key = api_token_create(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def _patch(client, url, body):
    return client.patch(url, body, content_type="application/json")


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- content -------------------------------------------------------------------------


def test_content_is_listed_newest_first_in_cursor_pages_and_filtered(tags, annotator):
    old = make_content(title="Old vision item", source="feed-a", created_on=datetime(2020, 1, 1, tzinfo=UTC))
    tagged = make_content(
        title="Tagged language item", source="feed-b", current_tag=tags["mlops"], current_tag_origin=TagOrigin.MODEL
    )
    new = make_content(title="New vision item", source="feed-a", created_on=datetime(2024, 1, 1, tzinfo=UTC))
    client = _client(annotator)
    assert _ids(client.get("/api/v1/content")) == [new.pk, tagged.pk, old.pk]
    first = client.get("/api/v1/content?page_size=2").json()
    assert [row["id"] for row in first["results"]] == [new.pk, tagged.pk] and first["previous"] is None
    assert _ids(client.get(first["next"])) == [old.pk]
    assert _ids(client.get("/api/v1/content?q=VISION")) == [new.pk, old.pk]
    assert _ids(client.get("/api/v1/content?source=feed-b")) == [tagged.pk]
    assert _ids(client.get("/api/v1/content?tag=mlops")) == [tagged.pk]
    assert _ids(client.get("/api/v1/content?origin=model")) == [tagged.pk]
    assert _ids(client.get("/api/v1/content?created_after=2021-01-01T00:00:00Z")) == [new.pk]
    assert _ids(client.get("/api/v1/content?created_before=2021-01-01T00:00:00Z")) == [old.pk]
    bad = client.get("/api/v1/content?origin=robot")
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert "origin" in bad.json()["errors"]
    assert client.get("/api/v1/content?cursor=bogus").status_code == 404


def test_content_detail_has_its_tag_gold_label_and_history_and_audit_answers_stay_blind(
    tags, annotator, second_annotator, reviewer
):
    content = make_content(current_tag=tags["mlops"], current_tag_origin=TagOrigin.MODEL)
    audit = review_task_open(content=content, reason="audit_sample", snapshot=PredictionSnapshot())
    ReviewTask.objects.filter(pk=audit.pk).update(required_answers=2)
    assert _post(_client(annotator), f"/api/v1/review-tasks/{audit.pk}/answer", {"tag": "other"}).status_code == 200
    url = f"/api/v1/content/{content.pk}"
    seen_by_second = _client(second_annotator).get(url).json()
    assert seen_by_second["current_tag"] == "mlops" and seen_by_second["gold_label"] is None
    assert seen_by_second["review_tasks"][0]["reason"] == "audit_sample"
    assert seen_by_second["answers"] == []  # blind: the first answer is not theirs to see
    assert [a["annotator"] for a in _client(annotator).get(url).json()["answers"]] == ["ann"]
    assert [a["tag"] for a in _client(reviewer).get(url).json()["answers"]] == ["other"]
    assert _client(annotator).get("/api/v1/content/999999").status_code == 404


# --- gold labels ---------------------------------------------------------------------


def test_a_reviewer_decides_a_gold_label_with_provenance_api_and_changes_it(tags, reviewer):
    content = make_content()
    task = make_low_confidence_task(content=content)
    client = _client(reviewer)
    made = _post(client, "/api/v1/gold-labels", {"content": content.pk, "tag": "computer-vision"})
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["tag"], body["provenance"], body["split"], body["decided_by"]) == (
        "computer-vision",
        "api",
        "train",
        "rev",
    )
    content.refresh_from_db()
    assert content.current_tag.slug == "computer-vision" and content.current_tag_origin == TagOrigin.GOLD
    task.refresh_from_db()
    assert task.status == ReviewStatus.CANCELLED  # the question is answered
    again = _post(client, "/api/v1/gold-labels", {"content": content.pk, "tag": "mlops"})
    assert again.status_code == 409 and f"/api/v1/gold-labels/{body['id']}" in again.json()["detail"]
    changed = _patch(client, f"/api/v1/gold-labels/{body['id']}", {"tag": "mlops"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert GoldLabel.objects.get(content=content).tag.slug == "mlops"
    assert _ids(client.get("/api/v1/gold-labels?provenance=api")) == [body["id"]]


def test_gold_label_input_errors_name_the_field(tags, reviewer):
    client = _client(reviewer)
    content = make_content()
    for body, field in (
        ({"content": content.pk, "tag": "nope"}, "tag"),
        ({"content": 999999, "tag": "mlops"}, "content"),
        ({"content": 1.5, "tag": "mlops"}, "content"),
        ({"tag": "mlops"}, "content"),
    ):
        answer = _post(client, "/api/v1/gold-labels", body)
        assert answer.status_code == 400 and field in answer.json()["errors"], (body, answer.content)
    assert not GoldLabel.objects.exists()


def test_annotators_browse_gold_labels_but_do_not_decide_them(tags, annotator):
    content = make_content()
    client = _client(annotator)
    assert client.get("/api/v1/gold-labels").status_code == 200
    assert _post(client, "/api/v1/gold-labels", {"content": content.pk, "tag": "mlops"}).status_code == 403


# --- review tasks --------------------------------------------------------------------


def test_working_the_queue_through_the_api_keeps_the_leases(tags, annotator, second_annotator):
    task = make_low_confidence_task(confidence=0.3)
    first, second = _client(annotator), _client(second_annotator)
    leased = _post(first, "/api/v1/review-tasks/next")
    assert leased.status_code == 200 and leased.json()["id"] == task.pk and leased.json()["assignee"] == "ann"
    assert _post(second, "/api/v1/review-tasks/next").status_code == 204  # the only task is held
    refused = _post(second, f"/api/v1/review-tasks/{task.pk}/answer", {"tag": "mlops"})
    assert refused.status_code == 409 and "Another annotator" in refused.json()["detail"]
    answered = _post(first, f"/api/v1/review-tasks/{task.pk}/answer", {"tag": "computer-vision", "note": "clear"})
    assert answered.status_code == 200, answered.content
    assert answered.json()["task"]["status"] == "done"
    assert answered.json()["gold_label"]["provenance"] == "annotator"
    late = _post(first, f"/api/v1/review-tasks/{task.pk}/answer", {"tag": "mlops"})
    assert late.status_code == 409 and "already answered" in late.json()["detail"]
    assert _ids(first.get("/api/v1/review-tasks?status=done")) == [task.pk]


def test_skip_gives_the_task_back_and_bad_answers_are_named(tags, annotator):
    task = make_low_confidence_task()
    client = _client(annotator)
    _post(client, "/api/v1/review-tasks/next")
    assert _post(client, f"/api/v1/review-tasks/{task.pk}/skip").status_code == 204
    task.refresh_from_db()
    assert task.assignee is None and task.status == ReviewStatus.OPEN
    bad = _post(client, f"/api/v1/review-tasks/{task.pk}/answer", {"tag": "nope"})
    assert bad.status_code == 400 and "tag" in bad.json()["errors"]
    assert _post(client, "/api/v1/review-tasks/999999/answer", {"tag": "mlops"}).status_code == 404


def test_disagreements_are_for_reviewers_and_audit_samples_are_blind(tags, annotator, reviewer):
    content = make_content()
    snapshot = PredictionSnapshot(model_version=1, predicted_tag="mlops", probabilities={"mlops": 0.9})
    disagreement = review_task_open(content=content, reason="disagreement", snapshot=snapshot)
    audit = review_task_open(content=make_content(), reason="audit_sample", snapshot=snapshot)
    annotator_view = _client(annotator).get("/api/v1/review-tasks").json()["results"]
    assert [row["id"] for row in annotator_view] == [audit.pk]
    assert annotator_view[0]["predicted_tag"] is None and annotator_view[0]["probabilities"] == {}
    denied = _post(_client(annotator), f"/api/v1/review-tasks/{disagreement.pk}/answer", {"tag": "mlops"})
    assert denied.status_code == 403
    assert (
        _post(_client(reviewer), f"/api/v1/review-tasks/{disagreement.pk}/answer", {"tag": "mlops"}).status_code == 200
    )


# --- reports and tags ----------------------------------------------------------------


def test_reports_are_listed_without_their_reporters_and_tags_are_public(tags, annotator):
    content = make_content(current_tag=tags["mlops"])
    _post(Client(), f"/api/v1/content/{content.pk}/reports", {"suggested_tag": "other", "comment": "not ops"})
    rows = _client(annotator).get(f"/api/v1/reports?content={content.pk}&status=open").json()["results"]
    assert len(rows) == 1 and rows[0]["suggested_tag"] == "other" and rows[0]["reporter_has_account"] is False
    assert "token" not in rows[0] and "reporter_hash" not in rows[0]
    assert rows[0]["id"] == WrongTagReport.objects.get().pk
    slugs = [tag["slug"] for tag in Client().get("/api/v1/tags").json()]
    assert slugs == ["natural-language-processing", "computer-vision", "mlops", "other"]


# --- model versions ------------------------------------------------------------------


def _candidate(number: int, algorithm: str) -> ModelVersion:
    version = ModelVersion.objects.create(number=number, algorithm=algorithm, params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    return version


def test_admins_promote_behind_the_gates_and_roll_back_with_the_audit_trail(tags, model_dir, admin_user):
    active = make_active_model(tags)
    worse = _candidate(2, "majority")
    client = _client(admin_user)
    listed = client.get("/api/v1/model-versions").json()["results"]
    assert [row["number"] for row in listed] == [2, 1]
    detail = client.get(f"/api/v1/model-versions/{active.number}").json()
    assert detail["status"] == "active" and detail["metrics"]["overall"]["f1"] == active.weighted_f1
    assert detail["events"][0]["action"] == "promoted"
    blocked = _post(client, "/api/v1/model-versions/2/promote")
    assert blocked.status_code == 409 and any("overall F1" in failure for failure in blocked.json()["failures"])
    assert ModelVersion.objects.get(status=ModelStatus.ACTIVE) == active
    promoted = _post(client, "/api/v1/model-versions/2/promote", {"override_reason": "testing the floor"})
    assert promoted.status_code == 200 and promoted.json()["status"] == "active"
    event = ModelEvent.objects.filter(action="promoted").first()
    assert (event.model_version, event.actor, event.reason) == (worse, admin_user, "testing the floor")
    assert _post(client, "/api/v1/model-versions/rollback", {}).status_code == 400  # a reason is required
    wrong_target = _post(client, "/api/v1/model-versions/rollback", {"reason": "worse", "to": 7})
    assert wrong_target.status_code == 409
    back = _post(client, "/api/v1/model-versions/rollback", {"reason": "worse", "to": 1})
    assert back.status_code == 200 and back.json()["number"] == 1
    assert ModelEvent.objects.first().action == "rolled_back"


def test_an_admin_queues_a_retrain_and_others_may_not(tags, admin_user, reviewer, private_queue):
    queued = _post(_client(admin_user), "/api/v1/model-versions", {"algorithm": "rules", "notes": "from a script"})
    assert queued.status_code == 202, queued.content
    version = ModelVersion.objects.get(number=queued.json()["number"])
    assert (version.status, version.algorithm, version.created_by) == ("queued", "rules", admin_user)
    assert ModelEvent.objects.filter(model_version=version, action="requested").exists()
    bad = _post(_client(admin_user), "/api/v1/model-versions", {"algorithm": "magic"})
    assert bad.status_code == 400 and "algorithm" in bad.json()["errors"]
    assert _post(_client(reviewer), "/api/v1/model-versions", {"algorithm": "rules"}).status_code == 403
    assert _client(reviewer).get("/api/v1/model-versions").status_code == 403
