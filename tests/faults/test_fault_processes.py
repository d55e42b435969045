"""The fault infrastructure itself: a worker pointed at a site does its work, survives losing a pool
process, and comes back after a SIGKILL of the whole worker; no process outlives its kill."""
import pytest

from tests.faults.processes import pid_alive, wait_for
from tests.faults.traffic import Traffic

pytestmark = pytest.mark.faults


def _ingest_and_wait_until_predicted(site, traffic: Traffic) -> None:
    [call] = [call for call in traffic.round() if call.name == "ingest"]
    answer = traffic.send(call)
    assert answer.normal, answer.describe()
    ids = ", ".join(f"'{item_id}'" for item_id in call.ingest_ids)
    query = ("SELECT count(*) FROM predictions_prediction p JOIN labeling_content c ON c.id = p.content_id "
             f"WHERE c.external_id IN ({ids})")
    wait_for(lambda: site.sql(query) == [(len(call.ingest_ids),)], timeout=60, what="the worker predicting new items")


def test_a_worker_loses_a_pool_process_or_everything_and_does_the_sites_work_after_each(make_site):
    site = make_site()
    worker = site.worker(concurrency=1, beat=True)
    traffic = Traffic(site.web(workers=1).base_url, token=site.seed.token, content_ids=site.seed.content_ids)
    _ingest_and_wait_until_predicted(site, traffic)
    assert (site.workdir / "worker-beat-schedule").exists() or list(site.workdir.glob("worker-beat-schedule*"))

    killed = worker.kill_child()
    wait_for(lambda: not pid_alive(killed), timeout=10, what="the pool process dying")
    wait_for(lambda: killed not in worker.pool_processes(), timeout=30, what="the worker forking a new pool process")
    assert worker.process.poll() is None
    _ingest_and_wait_until_predicted(site, traffic)

    pids = [worker.pid, *worker.children()]
    assert len(pids) == 3, "the main process, one pool process and the beat process"
    worker.kill()
    assert not any(pid_alive(pid) for pid in pids)
    worker.start()
    assert worker.starts == 2
    _ingest_and_wait_until_predicted(site, traffic)
