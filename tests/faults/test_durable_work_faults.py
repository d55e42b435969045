"""Faults against durable work (issue 12's table): workers killed mid-retrain and mid re-prediction,
the broker killed with work queued, the broker down while people act. Real processes, private services.

The faults hit one site in turn, as a drill would (one web server, one worker with beat,
restarted after each kill): starting them again for every fault would double the time
of the suite. Each scenario waits until the site has no unfinished work before it
starts, and each test asserts only on what its own fault did. The site runs with short
durable-work timings (site.FAST_RECOVERY: a run silent for 5 s is taken over, the
reconciler runs every 2 s) so that each takeover happens in seconds; ``make
bench-faults`` measures the same faults with the default timings.
"""

import pytest

from tests.faults import scenarios
from tests.faults.processes import PrivateRedis
from tests.faults.site import FAST_RECOVERY, Site

pytestmark = pytest.mark.faults

# Small prediction chunks: a re-prediction is many jobs, so a fault lands in the middle of it.
SETTINGS = {**FAST_RECOVERY, "TAGLOOP_PREDICT_CHUNK_SIZE": "25"}
BOUND_SECONDS = 60  # issue 12: every fault back to normal within a minute


@pytest.fixture(scope="module")
def durable_site(private_postgres, seed, fault_workdir, tmp_path_factory):
    broker = PrivateRedis(tmp_path_factory.mktemp("durable-redis"))
    try:  # a site that fails to set up must not leave its Redis running
        broker.start()
        site = Site(postgres=private_postgres, seed=seed, workdir=fault_workdir, broker=broker, settings=SETTINGS)
        try:
            yield site
        finally:
            site.close()
    finally:
        broker.stop()


def _assert_retrained_once(notes: dict) -> None:
    assert notes["state"][0] == "candidate", notes
    [(kind, status, attempts)] = notes["train jobs"]
    assert status == "done", notes
    assert notes["newest version"] == notes["version"], "one request, one version"


def test_a_retrain_whose_pool_process_is_killed_is_taken_over_and_finishes_once(durable_site):
    outcome = scenarios.retrain_pool_process_killed(durable_site)
    notes = outcome.notes
    answer = notes["retrain answer"]
    assert (answer.status, answer.text) == (200, f"Retrain queued as v{notes['version']}."), answer.describe()
    _assert_retrained_once(notes)
    assert notes["train jobs"][0][2] >= 2, "the killed run's claim, then the takeover"
    assert outcome.recovery_seconds is not None and outcome.recovery_seconds < BOUND_SECONDS


def test_a_retrain_whose_whole_worker_is_killed_finishes_once_after_the_worker_is_back(durable_site):
    outcome = scenarios.retrain_worker_killed(durable_site)
    assert outcome.notes["killed processes"] == 3, "main process, pool process and beat"
    assert outcome.notes["survivors"] == []
    _assert_retrained_once(outcome.notes)
    assert outcome.notes["train jobs"][0][2] >= 2
    assert outcome.recovery_seconds is not None and outcome.recovery_seconds < BOUND_SECONDS


def test_a_repredict_whose_worker_is_killed_predicts_every_item_once_with_the_active_model(durable_site):
    outcome = scenarios.repredict_worker_killed(durable_site)
    notes = outcome.notes
    assert notes["promote answer"].status == 200 and "is active" in notes["promote answer"].text, notes
    assert 0 < notes["predicted at the kill"] < notes["items"], "the kill landed mid re-prediction"
    assert notes["active"] == [notes["version"]]
    assert notes["lacking"] == 0 and notes["predictions"] == notes["items"], notes  # each item once
    assert notes["unfinished jobs"] == 0
    assert outcome.recovery_seconds is not None and outcome.recovery_seconds < BOUND_SECONDS


def test_work_queued_in_a_broker_that_is_killed_is_sent_again_and_health_says_so_until_done(durable_site):
    outcome = scenarios.broker_killed_with_work_queued(durable_site)
    notes = outcome.notes
    assert notes["promote answer"].status == 200 and notes["retrain answer"].status == 200
    assert notes["unfinished at the kill"] > 0, "work was waiting in the broker when it died"
    assert notes["lacking"] == 0 and notes["active"] == [notes["version"]], notes
    _assert_retrained_once(notes["retrain"])
    health = notes["health"]
    assert health[0]["code"] == 503 and "broker" in health[0]["failed"], health  # while Redis is down
    # Work may wait for the reconciler's grace and two of its rounds before it counts as stalled
    # (predictions.selectors.job_is_stalled); past that, health says so for as long as it lasts.
    late = [sample for sample in health if sample["stalled pending jobs"]]
    assert all(sample["code"] == 503 and sample["stalled"] for sample in late), late
    assert health[-1]["code"] == 200 and not health[-1]["stalled"], health  # all done: healthy, nothing stalled
    assert outcome.recovery_seconds is not None and outcome.recovery_seconds < BOUND_SECONDS


def test_with_the_broker_down_retrain_and_ingest_are_recorded_answered_and_done_once_it_is_back(durable_site):
    outcome = scenarios.broker_down_during_actions(durable_site)
    notes = outcome.notes
    answer = notes["retrain answer"]
    assert answer.status == 200 and "the worker will start it when the queue is back" in answer.text, answer.describe()
    assert notes["ingest"].status == 201, notes["ingest"].describe()
    assert answer.seconds < 10 and notes["ingest"].seconds < 10, "a dead broker must not hold a request for long"
    assert notes["items stored"] == 3 and notes["items predicted"] == 3
    _assert_retrained_once(notes["retrain"])
    assert outcome.recovery_seconds is not None and outcome.recovery_seconds < BOUND_SECONDS
