"""Fault: the cache's Redis is killed (``kill -9``) under a running site, then restarted.

Issue 12 measured 500s from predict, reports and ingestion while the cache was down.
Now the cache fails open (config/cache.py): pages and APIs answer as usual throughout,
without slowing down, and the rate limits count in Redis again once it is back.
"""

import pytest

from tests.faults.scenarios import cache_killed

pytestmark = pytest.mark.faults


def test_pages_and_apis_answer_normally_while_the_cache_is_down_and_use_it_again_once_it_is_back(make_site):
    outcome = cache_killed(make_site(cache=True), outage_seconds=4)

    assert outcome.notes["counted before"], "the rate limits should count in the cache Redis before the fault"
    during = outcome.during()
    assert {answer.call.name for answer in during} == {"content list", "content page", "predict", "report", "ingest"}
    assert [answer.describe() for answer in outcome.answers if not answer.normal] == []
    assert max(answer.seconds for answer in during) < 2.0, "a dead cache must not make requests slow"
    assert outcome.recovery_seconds is not None and outcome.recovery_seconds < 5, outcome.recovery_seconds
    assert outcome.notes["warned"] and outcome.notes["logged back"]
