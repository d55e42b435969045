"""Wrong-tag reports filed at the same moment (PostgreSQL, real threads and connections).

The deterministic tests keep the first report's transaction open until the second
request is blocked on its insert: the second one has read "no open task / no open
report" and collides with the first on commit, exactly the window QA hit by chance.
"""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from labeling.models import ReportStatus, ReviewTask, WrongTagReport
from labeling.services import report_create
from tests.factories import make_content

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs concurrent PostgreSQL connections"),
]


def _post_report(address: str, content_id: int, body: dict | None = None):
    url = reverse("api-content-reports", args=[content_id])
    client = Client(REMOTE_ADDR=address, raise_request_exception=False)  # a 500 is an answer to assert on
    return client.post(url, body or {}, content_type="application/json")


def _wait_until_another_connection_waits_for_a_lock(timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else this transaction sees its first reading
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second request never blocked on the first one's insert")


def _race(content, *, first_address: str, second_address: str) -> dict:
    """First: report_create in a transaction kept open. Second: the API, started meanwhile."""
    first_done, results = threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                results["first"], _ = report_create(content=content, reporter_address=first_address)
                first_done.set()
                # Commit only once the second request has read and is blocked on its insert.
                _wait_until_another_connection_waits_for_a_lock()
        finally:
            first_done.set()
            connection.close()

    def second():
        first_done.wait()
        try:
            results["second"] = _post_report(second_address, content.pk, {"comment": "me too"})
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_people_reporting_the_same_item_at_once_share_one_review_task(tags):
    content = make_content(current_tag=tags["mlops"])
    results = _race(content, first_address="10.0.0.1", second_address="10.0.0.2")
    assert results["second"].status_code == 201, results["second"].content
    assert WrongTagReport.objects.filter(content=content, status=ReportStatus.OPEN).count() == 2
    [task] = ReviewTask.objects.filter(content=content, reason="report", status="open")
    assert set(WrongTagReport.objects.values_list("review_task_id", flat=True)) == {task.pk}


def test_a_double_submit_while_the_first_is_uncommitted_joins_the_first_report(tags):
    content = make_content(current_tag=tags["mlops"])
    results = _race(content, first_address="10.0.0.3", second_address="10.0.0.3")
    second = results["second"]
    assert second.status_code == 200, second.content
    [report] = WrongTagReport.objects.filter(content=content)
    assert report.pk == results["first"].pk and report.comment == "me too"
    assert second.json()["status_url"].endswith(reverse("labeling:report-status", args=[report.token]))
    assert ReviewTask.objects.filter(content=content, reason="report").count() == 1


def test_eight_parallel_submits_from_one_client_make_one_report_with_one_status_link(tags):
    content = make_content(current_tag=tags["mlops"])
    barrier, responses = threading.Barrier(8), []

    def submit():
        try:
            barrier.wait(timeout=10)
            responses.append(_post_report("10.0.0.4", content.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(response.status_code for response in responses) == [200] * 7 + [201]
    [report] = WrongTagReport.objects.filter(content=content)
    assert {response.json()["status_url"] for response in responses} == {
        f"http://testserver{reverse('labeling:report-status', args=[report.token])}"
    }
    assert ReviewTask.objects.filter(content=content, reason="report").count() == 1


# --- a first-time visitor's double-click: two requests, no session yet, one page's token ------------


def _post_page_report(content_id: int, key: str | None):
    """The report form, from a browser with no session cookie yet (a new Client each time)."""
    client = Client(REMOTE_ADDR="10.0.0.9", raise_request_exception=False)
    body = {"comment": "wrong"} | ({"idempotency_key": key} if key else {})
    return client.post(reverse("labeling:content-report", args=[content_id]), body)


def _concurrently(count: int, submit) -> list:
    barrier, responses = threading.Barrier(count), []

    def run():
        try:
            barrier.wait(timeout=10)
            responses.append(submit())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


@pytest.mark.parametrize("clicks", [2, 10])
def test_a_first_time_visitors_concurrent_clicks_with_the_pages_token_make_one_report(tags, clicks):
    content = make_content(current_tag=tags["mlops"])
    responses = _concurrently(clicks, lambda: _post_page_report(content.pk, "token-of-one-page-load"))
    [report] = WrongTagReport.objects.filter(content=content)
    assert [response.status_code for response in responses] == [302] * clicks
    assert {response["Location"] for response in responses} == {reverse("labeling:report-status", args=[report.token])}
    assert ReviewTask.objects.filter(content=content, reason="report").count() == 1


def test_without_the_token_concurrent_first_clicks_are_separate_reporters(tags):
    """The control: the same race without the token makes one report per click (as measured in issue 12)."""
    content = make_content(current_tag=tags["mlops"])
    _concurrently(2, lambda: _post_page_report(content.pk, None))
    assert WrongTagReport.objects.filter(content=content).count() == 2


def test_a_click_arriving_while_the_first_is_uncommitted_joins_it(tags):
    """Deterministic: the second click has read "no report with this key" and waits on the first's insert."""
    content = make_content(current_tag=tags["mlops"])
    key = "token-of-one-page-load"
    first_done, results = threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                results["first"], _ = report_create(
                    content=content, reporter_address="10.0.0.9", reporter_browser="first-session", idempotency_key=key
                )
                first_done.set()
                _wait_until_another_connection_waits_for_a_lock()
        finally:
            first_done.set()
            connection.close()

    def second():
        first_done.wait()
        try:
            results["second"] = _post_page_report(content.pk, key)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    [report] = WrongTagReport.objects.filter(content=content)
    assert report.pk == results["first"].pk
    assert results["second"]["Location"] == reverse("labeling:report-status", args=[report.token])
