"""Hot pages answer with a fixed number of queries, whatever the size of the queue."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labeling.services import report_create
from tests.factories import make_low_confidence_task

pytestmark = pytest.mark.django_db


def _queries(client, method, url, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
    assert response.status_code in (200, 302), response.status_code
    return len(captured)


def _fill_queue(n: int):
    tasks = [make_low_confidence_task(confidence=0.3 + i / (10 * n)) for i in range(n)]
    for i in range(n // 5):
        report_create(content=tasks[i].content, reporter_address=f"10.0.0.{i}", comment="wrong")
    return tasks


@pytest.mark.parametrize("size", [5, 60])
def test_next_item_and_review_page_query_counts_do_not_grow_with_the_queue(client, tags, annotator, size):
    _fill_queue(size)
    client.force_login(annotator)
    start = _queries(client, "post", reverse("labeling:review-start"))
    task_url = client.post(reverse("labeling:review-start")).url
    page = _queries(client, "get", task_url)
    # Pinned: session + user + permissions + lease (+ savepoint), then the page's own reads.
    assert (start, page) == (EXPECTED_START, EXPECTED_PAGE)


EXPECTED_START = 13
# The page's own reads: the task, the tags, the reports, the progress line (open tasks by reason, the answers)
# and the history panel (the recent answers).
EXPECTED_PAGE = 10
