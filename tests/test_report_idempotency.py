"""A submit repeated with its idempotency key makes no second report (the page's hidden token, the API's header)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from labeling.models import ReportStatus, WrongTagReport
from labeling.services import review_task_answer, review_task_next
from tests.factories import make_content

pytestmark = pytest.mark.django_db


def _api(address: str, content_id: int, body: dict | None = None, key: str | None = None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return Client(REMOTE_ADDR=address).post(
        reverse("api-content-reports", args=[content_id]), body or {}, content_type="application/json", headers=headers
    )


def _page_key(client: Client, content_id: int) -> str:
    page = client.get(reverse("labeling:content-detail", args=[content_id])).content.decode()
    found = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert found, "the page has no idempotency key"
    return found.group(1)


def test_each_page_load_carries_a_new_hidden_token(tags):
    content = make_content(current_tag=tags["mlops"])
    first, second = _page_key(Client(), content.pk), _page_key(Client(), content.pk)
    assert len(first) >= 20 and first != second


def test_a_first_time_visitors_two_submits_of_one_page_make_one_report(tags):
    """Two requests without a session (a double-click before the first answer set the cookie)."""
    content = make_content(current_tag=tags["mlops"])
    key = _page_key(Client(), content.pk)
    url = reverse("labeling:content-report", args=[content.pk])
    answers = [
        Client(REMOTE_ADDR="203.0.113.1").post(url, {"idempotency_key": key, "comment": "wrong"}) for _ in range(2)
    ]
    [report] = WrongTagReport.objects.filter(content=content)
    assert {answer["Location"] for answer in answers} == {reverse("labeling:report-status", args=[report.token])}
    # Both tabs of the double-click say thank you; neither says "you had already reported".
    followed = Client(REMOTE_ADDR="203.0.113.1")
    followed.get(reverse("labeling:content-detail", args=[content.pk]))
    page = followed.post(url, {"idempotency_key": key}, follow=True).content.decode()
    assert "Thank you: your report was received" in page


def test_without_a_token_two_browsers_are_two_reporters(tags):
    """What the token is for: two sessions are two people (an office behind one address)."""
    content = make_content(current_tag=tags["mlops"])
    url = reverse("labeling:content-report", args=[content.pk])
    for _ in range(2):
        Client(REMOTE_ADDR="203.0.113.2").post(url, {})
    assert WrongTagReport.objects.filter(content=content).count() == 2


def test_an_api_retry_with_the_same_key_gets_the_first_report_and_changes_nothing(tags):
    content = make_content(current_tag=tags["mlops"])
    first = _api("203.0.113.3", content.pk, {"comment": "first"}, key="retry-1")
    again = _api("203.0.113.3", content.pk, {"comment": "second"}, key="retry-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    [report] = WrongTagReport.objects.filter(content=content)
    assert report.comment == "first"


def test_a_new_key_from_the_same_reporter_updates_their_open_report_as_before(tags):
    content = make_content(current_tag=tags["mlops"])
    assert _api("203.0.113.4", content.pk, {"comment": "first"}, key="a").status_code == 201
    assert _api("203.0.113.4", content.pk, {"comment": "second"}, key="b").status_code == 200
    assert WrongTagReport.objects.get(content=content).comment == "second"


def test_the_same_key_from_another_client_is_another_report(tags):
    """Keys are the client's choice: "1" from two clients must not land on one report."""
    content = make_content(current_tag=tags["mlops"])
    assert _api("203.0.113.5", content.pk, key="1").status_code == 201
    assert _api("203.0.113.6", content.pk, key="1").status_code == 201
    assert WrongTagReport.objects.filter(content=content).count() == 2


def test_a_retry_after_the_report_was_settled_makes_no_new_report(tags, annotator):
    content = make_content(current_tag=tags["mlops"])
    first = _api("203.0.113.7", content.pk, {"comment": "not ops"}, key="late-retry").json()
    task = review_task_next(user=annotator)
    review_task_answer(task_id=task.pk, user=annotator, tag=tags["other"])
    again = _api("203.0.113.7", content.pk, {"comment": "not ops"}, key="late-retry")
    assert again.json()["id"] == first["id"] and again.json()["status"] == ReportStatus.ACCEPTED
    assert WrongTagReport.objects.filter(content=content).count() == 1


def test_an_overlong_key_is_refused_naming_the_header(tags):
    response = _api("203.0.113.8", make_content(current_tag=tags["mlops"]).pk, key="k" * 256)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]
    assert not WrongTagReport.objects.exists()
