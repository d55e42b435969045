"""Fault: the cache's Redis is killed (``kill -9``) under a running site, then restarted.

Issue 12 measured 500s from predict, reports and ingestion while the cache was down.
Now the cache fails open (config/cache.py): the APIs answer as usual, and use the cache
again once Redis is back.
"""
import time

import pytest
import redis

from tests.faults.processes import wait_for
from tests.faults.traffic import API, Traffic

pytestmark = pytest.mark.faults


def _api_round(traffic: Traffic):
    return [traffic.send(call) for call in traffic.round() if call.kind == API]


def test_predict_report_and_ingest_keep_answering_while_the_cache_is_down_and_use_it_again_after(make_site):
    site = make_site(cache=True)
    web = site.web()
    traffic = Traffic(web.base_url, token=site.seed.token, content_ids=site.seed.content_ids)
    cache = redis.Redis.from_url(site.cache.url(0))
    before = _api_round(traffic) + _api_round(traffic)
    assert all(answer.normal for answer in before), [a.describe() for a in before if not a.normal]
    assert cache.keys("tagloop:*"), "the throttles should count in the cache Redis"

    site.cache.kill()
    during = [answer for _ in range(5) for answer in _api_round(traffic)]
    assert [a.describe() for a in during if not a.normal] == []
    assert max(answer.seconds for answer in during) < 2.0, "a dead cache must not make requests slow"

    site.cache.start()  # the same port, empty
    back_at = time.monotonic()

    def counting_again():
        answers = _api_round(traffic)
        assert [a.describe() for a in answers if not a.normal] == []
        return cache.keys("tagloop:*")

    wait_for(counting_again, timeout=10, what="the throttles counting in the restarted cache", interval=0.1)
    assert time.monotonic() - back_at < 5

    log = web.log_path.read_text()
    assert "unavailable" in log and "is back" in log, log[-2000:]
