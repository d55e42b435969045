"""Every endpoint, every role: who may do what. CSRF stays on."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db

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
