"""Every endpoint, every role: who may do what. CSRF stays on."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashes(settings):
    """Autouse, so it comes before the user fixtures: five users a test would cost seconds of hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


ANON, PLAIN, ANNOTATOR, ADMIN = "anonymous", "plain user", "annotator", "admin"


@pytest.fixture
def clients(tags, plain_user, annotator, admin_user):
    made = {ANON: Client()}
    for role, user in ((PLAIN, plain_user), (ANNOTATOR, annotator), (ADMIN, admin_user)):
        made[role] = Client()
        made[role].force_login(user)
    return made


def _status(client, method, url, data=None):
    response = getattr(client, method)(url, data or {})
    return response.status_code, response.get("Location", "")


# (method, url name, whether it needs the content/task id) -> allowed roles
REVIEW_ENDPOINTS = [
    ("get", "labeling:review-queue", None),
    ("post", "labeling:review-start", None),
    ("get", "labeling:review-task", "task"),
    ("post", "labeling:review-skip", "task"),
    ("post", "labeling:review-answer", "task"),
]


@pytest.mark.parametrize("method,name,arg", REVIEW_ENDPOINTS)
def test_review_endpoints_need_the_review_permission(clients, method, name, arg):
    for role, expected in ((ANON, "login"), (PLAIN, 403), (ANNOTATOR, "ok"), (ADMIN, "ok")):
        task = make_low_confidence_task()
        url = reverse(name, args=[task.pk]) if arg else reverse(name)
        status, location = _status(clients[role], method, url, {"tag": "mlops"})
        if expected == "login":
            assert status == 302 and "/accounts/login/" in location, (role, name)
        elif expected == 403:
            assert status == 403, (role, name)
        else:
            assert status in (200, 302) and "/accounts/login/" not in location, (role, name, status)


@pytest.mark.parametrize("url_name", ["admin:labeling_content_import", "admin:predictions_modelversion_retrain"])
def test_admin_actions_are_for_admins_only(clients, url_name):
    url = reverse(url_name)
    assert _status(clients[ANON], "get", url)[1].startswith("/admin/login/")
    assert _status(clients[PLAIN], "get", url)[1].startswith("/admin/login/")  # not staff
    assert _status(clients[ANNOTATOR], "get", url)[1].startswith("/admin/login/")
    assert _status(clients[ADMIN], "get", url)[0] == 200


def test_staff_without_the_permission_cannot_retrain_or_import(tags, roles, django_user_model):
    staff = django_user_model.objects.create_user("staffer", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("admin:predictions_modelversion_retrain")).status_code == 403
    assert client.get(reverse("admin:labeling_content_import")).status_code == 403


def test_public_pages_and_reports_are_open_to_everyone(clients, tags):
    content = make_content(current_tag=tags["mlops"])  # a blank report says its tag is wrong
    for role, client in clients.items():
        assert client.get(reverse("labeling:content-list")).status_code == 200, role
        assert client.get(reverse("labeling:content-detail", args=[content.pk])).status_code == 200, role
        response = client.post(reverse("labeling:content-report", args=[content.pk]), {"comment": role})
        assert response.status_code == 302, role


def test_csrf_is_enforced_on_forms(tags, annotator):
    content = make_content(current_tag=tags["mlops"])  # a blank report says its tag is wrong
    task = make_low_confidence_task()
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("labeling:content-report", args=[content.pk]), {}).status_code == 403
    client.force_login(annotator)
    assert client.post(reverse("labeling:review-answer", args=[task.pk]), {"tag": "mlops"}).status_code == 403
    page = client.get(reverse("labeling:content-detail", args=[content.pk]))
    token = page.cookies["csrftoken"].value
    response = client.post(reverse("labeling:content-report", args=[content.pk]), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


# --- the REST API: every endpoint, every role, signed in by token and by session ---------------

REVIEWER = "reviewer"
EVERYONE = {ANON, PLAIN, ANNOTATOR, REVIEWER, ADMIN}
TEAM = {ANNOTATOR, REVIEWER, ADMIN}
DECIDERS = {REVIEWER, ADMIN}

# (method, path with {content}/{gold}/{task}/{report}/{version}, body) -> allowed roles
API_ENDPOINTS = [
    ("get", "/api/v1/content", None, TEAM),
    ("get", "/api/v1/content/{content}", None, TEAM),
    ("get", "/api/v1/tags", None, EVERYONE),
    ("get", "/api/v1/gold-labels", None, TEAM),
    ("get", "/api/v1/gold-labels/{gold}", None, TEAM),
    ("post", "/api/v1/gold-labels", {"content": "{content}", "tag": "mlops"}, DECIDERS),
    ("patch", "/api/v1/gold-labels/{gold}", {"tag": "other"}, DECIDERS),
    ("get", "/api/v1/gold-labels/export?export_format=doccano", None, DECIDERS),
    ("get", "/api/v1/review-tasks", None, TEAM),
    ("get", "/api/v1/review-tasks/{task}", None, TEAM),
    ("post", "/api/v1/review-tasks/next", {}, TEAM),
    ("post", "/api/v1/review-tasks/{task}/answer", {"tag": "mlops"}, TEAM),
    ("post", "/api/v1/review-tasks/{task}/skip", {}, TEAM),
    ("get", "/api/v1/reports", None, TEAM),
    ("get", "/api/v1/reports/{report}", None, TEAM),
    ("get", "/api/v1/model-versions", None, {ADMIN}),
    ("get", "/api/v1/model-versions/{version}", None, {ADMIN}),
    ("post", "/api/v1/model-versions", {"algorithm": "rules"}, {ADMIN}),
    ("post", "/api/v1/model-versions/{version}/promote", {}, {ADMIN}),
    ("post", "/api/v1/model-versions/rollback", {"reason": "matrix"}, {ADMIN}),
]


def _api_objects(tags) -> dict:
    from labeling.models import GoldLabel, WrongTagReport
    from predictions.models import ModelVersion

    gold_content = make_content()
    gold = GoldLabel.objects.create(content=gold_content, tag=tags["mlops"], provenance="imported", split="train")
    content = make_content(current_tag=tags["mlops"])
    report = WrongTagReport.objects.create(content=content, shown_tag=tags["mlops"], reporter_hash="x")
    version, _ = ModelVersion.objects.get_or_create(number=1, defaults={"algorithm": "rules"})
    return {
        "content": make_content().pk,
        "gold": gold.pk,
        "task": make_low_confidence_task().pk,
        "report": report.pk,
        "version": version.number,
    }


def _api_clients(auth: str, users: dict) -> dict:
    from labeling.services.api_tokens import api_token_create

    made = {ANON: Client()}
    for role, user in users.items():
        if auth == "token":
            made[role] = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='matrix')[1]}")
        else:
            made[role] = Client()
            made[role].force_login(user)
    return made


def _fill(value, objects: dict):
    if isinstance(value, dict):
        return {key: _fill(item, objects) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and "/" not in value:
        return objects[value[1:-1]]
    return value


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("method,path,body,allowed", API_ENDPOINTS, ids=[f"{row[0]} {row[1]}" for row in API_ENDPOINTS])
def test_api_endpoint_checks_the_role(
    tags, plain_user, annotator, reviewer, admin_user, private_queue, auth, method, path, body, allowed
):
    users = {PLAIN: plain_user, ANNOTATOR: annotator, REVIEWER: reviewer, ADMIN: admin_user}
    for role, client in _api_clients(auth, users).items():
        objects = _api_objects(tags)  # fresh objects per role: one role's answer must not change another's
        url = path.format(**objects)
        kwargs = {"content_type": "application/json"} if body is not None else {}
        response = getattr(client, method)(url, _fill(body, objects) if body is not None else None, **kwargs)
        if role in allowed:
            assert response.status_code not in (401, 403, 500), (role, url, response.status_code, response.content)
        else:
            # Not signed in: a 401 that says how to sign in; signed in without the role: a 403.
            refused = 401 if role == ANON else 403
            assert response.status_code == refused, (role, url, response.status_code)
            assert response["Content-Type"] == "application/problem+json"
