"""Every endpoint, every role: anonymous, plain user, annotator, reviewer, admin.

Each row says who may use the endpoint; everyone else must be sent to log in (HTML,
anonymous), refused with 403 (HTML, logged in; API) or 401 (API, not signed in).
"""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from labeling.models import Annotation, Tag
from labeling.services import gold_label_set, review_task_answer
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db

ANON, PLAIN, ANNOTATOR, REVIEWER, ADMIN = "anonymous", "plain", "annotator", "reviewer", "admin"
EVERYONE = {ANON, PLAIN, ANNOTATOR, REVIEWER, ADMIN}
TEAM = {ANNOTATOR, REVIEWER, ADMIN}

# (method, url name, args kind, allowed roles)
ENDPOINTS = [
    ("get", "labeling:content-list", None, EVERYONE),
    ("get", "labeling:content-detail", "content", EVERYONE),
    ("post", "labeling:content-report", "content", EVERYONE),
    ("get", "labeling:tag-detail", "tag", EVERYONE),
    ("get", "labeling:after-login", None, EVERYONE - {ANON}),
    ("get", "labeling:review-queue", None, TEAM),
    ("post", "labeling:review-start", None, TEAM),
    ("post", "labeling:review-undo", None, TEAM),
    ("get", "labeling:review-task", "task", TEAM),
    ("post", "labeling:review-answer", "task", TEAM),
    ("post", "labeling:review-skip", "task", TEAM),
    ("get", "labeling:review-history", None, TEAM),
    ("post", "labeling:review-answer-change", "answer", TEAM),
    ("get", "labeling:gold-list", None, TEAM),
    ("post", "labeling:gold-requeue", None, {REVIEWER, ADMIN}),
    ("get", "labeling:gold-detail", "gold", TEAM),
    ("post", "labeling:gold-change", "gold", {REVIEWER, ADMIN}),
    ("get", "labeling:gold-export", "csv", {REVIEWER, ADMIN}),
    ("get", "labeling:gold-export", "doccano", {REVIEWER, ADMIN}),
    ("get", "labeling:gold-export", "huggingface-parquet", {REVIEWER, ADMIN}),
    ("get", "labeling:quality", None, {REVIEWER, ADMIN}),
    ("get", "dashboard", None, TEAM),
    ("get", "predictions:model-list", None, {ADMIN}),
    ("get", "predictions:model-row", "version", {ADMIN}),
    ("get", "predictions:model-active-line", None, {ADMIN}),
    ("get", "predictions:model-detail", "version", {ADMIN}),
    ("post", "predictions:model-retrain", None, {ADMIN}),
    ("post", "predictions:model-cancel", "version", {ADMIN}),
    ("post", "predictions:model-promote", "version", {ADMIN}),
    ("post", "predictions:model-rollback", None, {ADMIN}),
    ("post", "predictions:canary-start", "version", {ADMIN}),
    ("get", "predictions:canary-detail", "canary", {ADMIN}),
    ("post", "predictions:canary-stop", "canary", {ADMIN}),
    ("get", "monitoring:page", None, {REVIEWER, ADMIN}),
    ("post", "monitoring:check-drift", None, {ADMIN}),
    ("post", "monitoring:emerging-tag", "topic", {ADMIN}),
    ("post", "monitoring:threshold-pin", None, {ADMIN}),
    ("post", "monitoring:threshold-unpin", None, {ADMIN}),
]


@pytest.fixture
def clients(tags, plain_user, annotator, reviewer, admin_user):
    made = {ANON: Client()}
    for role, user in ((PLAIN, plain_user), (ANNOTATOR, annotator), (REVIEWER, reviewer), (ADMIN, admin_user)):
        made[role] = Client()
        made[role].force_login(user)
    return made


def _url(name, kind):
    from predictions.models import Canary, ModelVersion

    if kind == "content":
        return reverse(name, args=[make_content().pk])
    if kind == "task":
        return reverse(name, args=[make_low_confidence_task().pk])
    if kind == "tag":
        return reverse(name, args=["mlops"])
    if kind == "gold":
        content = make_content()
        gold_label_set(content=content, tag=Tag.objects.get(slug="other"), provenance="imported")
        return reverse(name, args=[content.pk])
    if kind == "answer":
        # Someone's answer: only its annotator may change it (404 for others), the role check comes first.
        task = make_low_confidence_task()
        user = get_user_model().objects.get(username="ann")
        review_task_answer(task_id=task.pk, user=user, tag=Tag.objects.get(slug="other"))
        return reverse(name, args=[Annotation.objects.latest("pk").pk])
    if kind in ("csv", "doccano", "huggingface-parquet"):  # export formats
        return reverse(name, args=[kind])
    if kind == "version":
        version, _ = ModelVersion.objects.get_or_create(number=1, defaults={"algorithm": "rules"})
        return reverse(name, args=[version.number])
    if kind == "topic":
        from predictions.models import EmergingTopic

        topic = EmergingTopic.objects.create(rank=1, top_terms=["quantum"], content_ids=[], cohesion=0.5, candidates=0)
        return reverse(name, args=[topic.pk])
    if kind == "canary":
        version, _ = ModelVersion.objects.get_or_create(number=1, defaults={"algorithm": "rules"})
        canary = Canary.objects.create(candidate=version, baseline=version, share=0.1, running=False)
        return reverse(name, args=[canary.pk])
    return reverse(name)


@pytest.mark.parametrize(
    "method,name,kind,allowed", ENDPOINTS, ids=[f"{row[1]}-{row[2]}" if row[2] else row[1] for row in ENDPOINTS]
)
def test_html_endpoint_checks_the_role(clients, method, name, kind, allowed):
    for role, client in clients.items():
        response = getattr(client, method)(_url(name, kind), {"tag": "mlops", "algorithm": "rules"})
        location = response.get("Location", "")
        if role in allowed:
            assert response.status_code not in (401, 403) and "/accounts/login/" not in location, (role, name)
        elif role == ANON:
            assert response.status_code == 302 and "/accounts/login/" in location, (role, name)
        else:
            assert response.status_code == 403, (role, name, response.status_code)


@pytest.mark.parametrize("role,status", [(ANON, 401), (PLAIN, 403), (ANNOTATOR, 403), (REVIEWER, 200), (ADMIN, 200)])
def test_drift_api_is_for_reviewers_and_admins(clients, role, status):
    assert clients[role].get(reverse("api-drift")).status_code == status


@pytest.mark.parametrize("role", [ANON, PLAIN, ANNOTATOR, REVIEWER, ADMIN])
def test_public_apis_are_open_and_ingestion_needs_a_source_token(clients, role):
    client = clients[role]
    report = client.post(reverse("api-content-reports", args=[make_content().pk]), {}, content_type="application/json")
    assert report.status_code == 201
    assert client.post(reverse("api-predict"), {"title": "x"}, content_type="application/json").status_code == 503
    ingest = client.post(reverse("api-content-ingest"), {"id": "1", "title": "x"}, content_type="application/json")
    assert ingest.status_code == 401  # a session is not a source token


ADMIN_SITE_PAGES = [
    "admin:index",
    "admin:labeling_content_changelist",
    "admin:labeling_content_import",
    "admin:labeling_sourcetoken_add",
    "admin:webhooks_webhookendpoint_changelist",
    "admin:webhooks_webhookendpoint_add",
    "admin:webhooks_webhookdelivery_changelist",
]


@pytest.mark.parametrize("name", ADMIN_SITE_PAGES)
def test_the_admin_role_uses_the_django_admin_without_a_staff_flag(tags, django_user_model, clients, name):
    from django.contrib.auth.models import Group

    # A role given in the admin is a group; it does not set is_staff.
    role_only = django_user_model.objects.create_user(username="boss2", password="pw-boss2")
    role_only.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(role_only)
    assert client.get(reverse(name)).status_code == 200
    for role in (ANON, PLAIN, ANNOTATOR, REVIEWER):
        response = clients[role].get(reverse(name))
        assert response.status_code == 302 and "/admin/login/" in response["Location"], (role, name)


def test_the_admin_sites_login_form_lets_in_the_admin_role_only(tags, django_user_model, annotator):
    from django.contrib.auth.models import Group

    role_only = django_user_model.objects.create_user(username="boss3", password="pw-boss3")
    role_only.groups.add(Group.objects.get(name="admin"))
    login = reverse("admin:login")
    refused = Client().post(login, {"username": annotator.username, "password": "pw-ann"})
    assert refused.status_code == 200 and "staff account" in refused.content.decode()
    admitted = Client().post(login, {"username": "boss3", "password": "pw-boss3", "next": "/admin/"})
    assert admitted.status_code == 302 and admitted["Location"] == "/admin/"
