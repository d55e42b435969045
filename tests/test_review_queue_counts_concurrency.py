"""Writers of review tasks never wait on the queue's counts (PostgreSQL, real threads and connections).

The triggers append a row per statement instead of updating one row per (reason, tag, source): a transaction
that opened a task and has not committed yet must not hold up another opening a task of the same key, as a
re-prediction chunk in flight must not hold up an annotator's answer.
"""

import threading

import pytest
from django.db import connection, transaction

from labeling import selectors
from labeling.services import PredictionSnapshot, review_task_open
from tests.factories import make_content

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the counts are kept by PostgreSQL triggers"),
]

SNAPSHOT = PredictionSnapshot(model_version=1, predicted_tag="mlops", probabilities={"mlops": 0.4}, confidence=0.4)


def test_a_writer_in_flight_does_not_block_another_of_the_same_key(tags):
    first_item, second_item = make_content(source="feed"), make_content(source="feed")
    first_opened, second_done, errors = threading.Event(), threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                review_task_open(content=first_item, reason="low_confidence", snapshot=SNAPSHOT)
                first_opened.set()
                # Stay uncommitted until the second writer is through (or gives up).
                second_done.wait(timeout=10)
        finally:
            first_opened.set()
            connection.close()

    def second():
        try:
            first_opened.wait(timeout=10)
            with transaction.atomic(), connection.cursor() as cursor:
                # A counter row locked by the first writer would make this wait, and fail after 2 s.
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                review_task_open(content=second_item, reason="low_confidence", snapshot=SNAPSHOT)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert selectors.review_queue_counts(source="feed") == {"low_confidence": 2}
