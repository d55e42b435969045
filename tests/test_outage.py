"""Database unreachable: pages and API answer 503 with Retry-After (HTML / problem+json), never 500.

The database here is really unreachable: the test points Django's connection at a
loopback port nobody listens on (or, on SQLite, a file that cannot be opened), so the
driver's own error travels through the middleware and views as in an outage. The
fault test (tests/faults/test_database_down.py) stops a real PostgreSQL under load.
"""

import logging
import sys

import pytest
from django.db import OperationalError, connections
from django.test import Client, RequestFactory

from config.log_filters import DatabaseUnavailableWithoutTraceback
from config.outage import RETRY_AFTER_SECONDS, server_error
from tests.faults.processes import free_port


@pytest.fixture
def unreachable_database(django_db_blocker):
    connection = connections["default"]
    saved = dict(connection.settings_dict)
    with django_db_blocker.unblock():
        connection.close()
        if connection.vendor == "sqlite":
            connection.settings_dict["NAME"] = "/nonexistent-folder/tagloop.sqlite3"
        else:
            connection.settings_dict.update(HOST="127.0.0.1", PORT=free_port())
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


@pytest.fixture
def client():
    # Answer as the server would: Django's test client re-raises view exceptions by default.
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("path", ["/", "/content/1/", "/?tag=mlops"])
def test_pages_answer_a_503_page_that_says_so(client, unreachable_database, path):
    response = client.get(path)
    page = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    assert "briefly unavailable" in page and "tagloop.css" in page and "no-store" in response["Cache-Control"]


def test_a_page_with_a_session_cookie_fails_in_the_middleware_and_still_gets_the_503_page(client, unreachable_database):
    client.cookies["sessionid"] = "abc123"  # the session middleware reads it from the database first
    response = client.get("/")
    assert response.status_code == 503 and "briefly unavailable" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/api/v1/predict", {"title": "YOLO for drones"}, {}),
        ("/api/v1/content/1/reports", {"comment": "wrong"}, {}),
        ("/api/v1/content", {"id": "x-1", "title": "New item"}, {"HTTP_AUTHORIZATION": "Token tl_abc"}),
    ],
)
def test_the_api_answers_a_problem(client, unreachable_database, path, body, headers):
    response = client.post(path, body, content_type="application/json", **headers)
    assert response.status_code == 503 and response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 503 and problem["title"] == "Service Unavailable" and "database" in problem["detail"]


def test_other_errors_are_still_the_500_page():
    request = RequestFactory().get("/content/1/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500 and "Something went wrong" in response.content.decode()
    assert not response.has_header("Retry-After")


def test_an_error_raised_while_handling_a_database_error_is_still_an_outage():
    request = RequestFactory().get("/api/v1/predict")
    try:
        try:
            raise OperationalError("connection refused")
        except OperationalError:
            raise RuntimeError("cleanup failed too")  # noqa: B904 - the implicit chain is the point
    except RuntimeError:
        response = server_error(request)
    assert response.status_code == 503 and response["Content-Type"] == "application/problem+json"


def _request_record(status_code: int, error: Exception) -> logging.LogRecord:
    try:
        raise error
    except type(error):
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "%s: %s", ("Service Unavailable", "/x"), sys.exc_info()
        )
    record.status_code = status_code
    return record


def test_an_outage_is_logged_in_one_line_with_its_reason_and_other_errors_keep_their_traceback():
    outage = _request_record(503, OperationalError("connection failed: Connection refused\n\tIs the server running?"))
    assert DatabaseUnavailableWithoutTraceback().filter(outage) and outage.exc_info is None
    assert logging.Formatter().format(outage) == (
        "Service Unavailable: /x (database unavailable: OperationalError: connection failed: Connection refused)"
    )
    bug = _request_record(500, ValueError("a bug"))
    assert DatabaseUnavailableWithoutTraceback().filter(bug) and bug.exc_info is not None
