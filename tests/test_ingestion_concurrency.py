"""Two batches carrying the same text at the same moment store it once (PostgreSQL)."""

import threading
import time

import pytest
from django.db import connection, transaction

from labeling.models import Content
from labeling.parsing import ContentRow
from labeling.services.ingestion import CREATED, DUPLICATE, _ingest, content_ingest

pytestmark = pytest.mark.django_db(transaction=True)


def _row(external_id: str) -> ContentRow:
    return ContentRow(
        line=0, external_id=external_id, title="The same text", description="twice", created_on=None, tag=None
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the guarantee needs PostgreSQL's advisory locks")
def test_a_concurrent_batch_with_the_same_text_waits_and_gets_the_stored_item(tags):
    first_stored, results = threading.Event(), {}

    def first_batch():
        with transaction.atomic():
            results["first"] = _ingest([_row("a")], "feed-a")
            first_stored.set()
            time.sleep(0.5)  # the second batch starts while this one has not committed
        connection.close()

    def second_batch():
        first_stored.wait()
        results["second"] = content_ingest(rows=[_row("b")], source="feed-b")
        connection.close()

    threads = [threading.Thread(target=first_batch), threading.Thread(target=second_batch)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    [first], [second] = results["first"], results["second"]
    assert (first.status, second.status) == (CREATED, DUPLICATE)
    assert second.id == first.id and Content.objects.filter(title="The same text").count() == 1
