"""Durable work: jobs recorded with their cause, claimed once, re-sent by the reconciler, reported when stalled.

Broker outages here use an address where nothing listens (a real refused connection);
the tests that kill real workers and brokers are in tests/faults/.
"""

import os
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from labeling.models import Content
from predictions.artifact_store import ArtifactMissing
from predictions.models import Job, JobKind, JobStatus, Lease, ModelStatus, ModelVersion, Prediction
from predictions.selectors import broker_queue_length, stalled_work
from predictions.services import model_version_request, predictions_create, retrain_waiting_for_broker
from predictions.services.jobs import job_claim, job_run
from predictions.services.leases import lease_take
from predictions.services.reconciler import work_reconcile
from tests.conftest import wait_until
from tests.factories import make_active_model, make_content, make_gold_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    from config.celery import app

    # broker_write_url first: reading it falls back to broker_url (see test_monitoring).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app.conf, "broker_write_url", None)
        patch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
        _forget_broker_connections(app)
        yield
    _forget_broker_connections(app)


def _forget_broker_connections(app):
    """The app keeps its pools of the URL it first used; forget them so the URL in force is used.

    The pools themselves stay open in kombu's registry (one per URL), for the next user of that URL.
    """
    app._pool = None
    app.amqp._producer_pool = None


def _stale(seconds: float = 3600):
    return timezone.now() - timedelta(seconds=seconds)


# --- leases: one run per period -----------------------------------------------------


def test_a_periodic_duty_runs_once_per_period_however_many_beats_tick():
    assert lease_take(name="duty", every_seconds=60)
    assert not lease_take(name="duty", every_seconds=60)  # a second beat, the same tick
    Lease.objects.filter(name="duty").update(last_run_at=_stale(59))
    assert lease_take(name="duty", every_seconds=60)  # 80% of a period later: due again
    assert lease_take(name="another", every_seconds=60)


# --- claims ---------------------------------------------------------------------------


def test_a_job_is_claimed_once_and_taken_over_only_when_its_heartbeat_is_stale(settings):
    settings.TAGLOOP_STALE_AFTER_SECONDS = 30
    job = Job.objects.create(kind=JobKind.DRIFT_CHECK)
    first = job_claim(job_id=job.pk)
    assert first is not None and first.job.status == JobStatus.RUNNING and first.job.attempts == 1
    assert job_claim(job_id=job.pk) is None  # its worker beats: a redelivered message does nothing
    Job.objects.filter(pk=job.pk).update(heartbeat_at=_stale(31))
    second = job_claim(job_id=job.pk)
    assert second is not None and second.token != first.token and second.job.attempts == 2


def test_a_fresh_claim_of_a_dead_process_on_this_machine_is_taken_over_at_once(settings):
    """A killed pool process: its message comes back at once, before its heartbeat goes stale."""
    import socket

    settings.TAGLOOP_STALE_AFTER_SECONDS = 30
    host = socket.gethostname()
    holders = {
        "dead here": (f"w1@{host} (pid {_pid_of_finished_process()} on {host})", True),
        "alive here": (f"w1@{host} (pid {os.getppid()} on {host})", False),
        "another machine": (f"w1@elsewhere (pid {_pid_of_finished_process()} on elsewhere-host)", False),
        "unknown": ("", False),
    }
    for name, (claimed_by, taken) in holders.items():
        job = Job.objects.create(
            kind=JobKind.DRIFT_CHECK,
            status=JobStatus.RUNNING,
            claim_token="old",
            claimed_by=claimed_by,
            heartbeat_at=timezone.now(),
        )
        claim = job_claim(job_id=job.pk, worker="w2@here")
        assert (claim is not None) == taken, name
        if taken:
            assert claim.job.claimed_by.startswith("w2@here (pid ") and claim.token != "old"


def _pid_of_finished_process() -> int:
    """The pid of a process that existed and is gone (reaped)."""
    import subprocess

    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_finished_job_is_never_run_again(tags):
    job = Job.objects.create(kind=JobKind.DRIFT_CHECK, status=JobStatus.DONE)
    job_run(job_id=job.pk)
    assert Job.objects.get(pk=job.pk).attempts == 0


def test_a_failing_prediction_chunk_goes_back_to_pending_until_its_last_attempt(tags):
    missing_version = ModelVersion.objects.create(number=7, algorithm="tfidf-linear", status=ModelStatus.CANDIDATE)
    job = Job.objects.create(
        kind=JobKind.PREDICT,
        model_version=missing_version,
        content_ids=[make_content().pk],
        dispatched_at=timezone.now(),
    )
    with pytest.raises(ArtifactMissing):
        job_run(job_id=job.pk)  # no artifact: the model cannot load
    job.refresh_from_db()
    assert (job.status, job.dispatched_at, job.attempts) == (JobStatus.PENDING, None, 1) and job.error
    Job.objects.filter(pk=job.pk).update(attempts=4)
    with pytest.raises(ArtifactMissing):
        job_run(job_id=job.pk)
    assert Job.objects.get(pk=job.pk).status == JobStatus.FAILED


# --- the broker down: the action is recorded and happens later ---------------------------


def test_a_retrain_asked_for_with_the_broker_down_is_recorded_and_the_page_says_so(
    client, admin_user, tags, broker_down, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("predictions:model-retrain"), {"algorithm": "majority"}, follow=True)
    assert response.status_code == 200
    assert (
        "the task queue is unreachable, so the worker will start it when the queue is back" in response.content.decode()
    )
    version = ModelVersion.objects.get()
    job = Job.objects.get(model_version=version)
    assert (version.status, job.kind, job.status, job.dispatched_at) == ("queued", "train", "pending", None)
    assert "OperationalError" in job.dispatch_error or "Error" in job.dispatch_error
    assert retrain_waiting_for_broker(model_version=version)
    # Health names it: the version waits for the broker.
    Job.objects.filter(pk=job.pk).update(created_at=_stale(90))
    [entry] = stalled_work(include_items=False)
    assert entry["kind"] == "retrain" and entry["detail"].startswith(
        f"retrain v{version.number}: queued 90 s ago, not sent"
    )


def test_the_reconciler_sends_what_the_broker_missed_once_it_is_back(
    tags, private_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        version = model_version_request(algorithm="majority")  # as if the send after commit had failed
    job = Job.objects.get(model_version=version)
    assert job.dispatched_at is None and broker_queue_length() == 0
    done = work_reconcile(sweep=False)
    assert done.unsent == [job.pk]
    job.refresh_from_db()
    assert job.dispatched_at is not None and not job.dispatch_error
    assert broker_queue_length() == 1


def test_the_reconciler_resends_a_lost_message_only_when_the_queue_is_empty(tags, private_queue, settings):
    settings.TAGLOOP_DISPATCH_GRACE_SECONDS = 20
    waiting = Job.objects.create(kind=JobKind.DRIFT_CHECK, dispatched_at=_stale(25))
    fresh = Job.objects.create(kind=JobKind.DRIFT_CHECK, dispatched_at=timezone.now())
    # The queue is empty, yet a job sent 25 s ago is still pending: its message is gone.
    assert work_reconcile(sweep=False).lost == [waiting.pk]
    assert broker_queue_length() == 1
    # Now a message waits in the queue: pending jobs may be behind it; nothing is re-sent.
    Job.objects.filter(pk=waiting.pk).update(dispatched_at=_stale(25))
    assert work_reconcile(sweep=False).lost == []
    assert Job.objects.get(pk=fresh.pk).dispatched_at < timezone.now()


# --- a dead worker's run -----------------------------------------------------------------


def test_a_run_without_heartbeat_is_stalled_sent_again_and_health_says_so(
    client, admin_user, tags, private_queue, settings
):
    settings.TAGLOOP_STALE_AFTER_SECONDS = 30
    version = ModelVersion.objects.create(number=5, algorithm="majority", status=ModelStatus.TRAINING, progress=10)
    job = Job.objects.create(
        kind=JobKind.TRAIN,
        model_version=version,
        status=JobStatus.RUNNING,
        claim_token="dead",
        dispatched_at=_stale(),
        heartbeat_at=_stale(140),
    )
    body = client.get("/healthz").json()
    assert body["status"] == "stalled" and client.get("/healthz").status_code == 503
    assert body["stalled"][0]["detail"] == "retrain v5: no heartbeat for 140 s"
    assert client.get("/healthz/ready").status_code == 200  # this process can serve all the same
    assert client.get("/healthz/live").json() == {"status": "ok"}
    client.force_login(admin_user)
    page = client.get(reverse("predictions:model-list")).content.decode()
    assert "stalled" in page and "no heartbeat for 140 s" in page and "Resume" in page
    response = client.post(reverse("predictions:model-resume", args=[5]), follow=True)
    assert "v5 sent to the workers again" in response.content.decode()
    assert broker_queue_length() == 1
    assert work_reconcile(sweep=False).stale == [job.pk]


def test_resume_refuses_a_run_that_a_live_worker_holds(client, admin_user, tags, private_queue):
    version = ModelVersion.objects.create(number=5, algorithm="majority", status=ModelStatus.TRAINING)
    Job.objects.create(
        kind=JobKind.TRAIN,
        model_version=version,
        status=JobStatus.RUNNING,
        dispatched_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    client.force_login(admin_user)
    response = client.post(reverse("predictions:model-resume", args=[5]), follow=True)
    assert "is not stalled" in response.content.decode() and broker_queue_length() == 0


def test_only_admins_may_resume(client, annotator, tags):
    ModelVersion.objects.create(number=5, algorithm="majority", status=ModelStatus.TRAINING)
    client.force_login(annotator)
    assert client.post(reverse("predictions:model-resume", args=[5])).status_code == 403


def test_a_cancelled_queued_retrain_leaves_no_waiting_job(tags, admin_user):
    from predictions.services import model_version_cancel

    version = model_version_request(algorithm="majority")
    model_version_cancel(model_version=version, cancelled_by=admin_user)
    assert Job.objects.get(model_version=version).status == JobStatus.DONE
    assert stalled_work(include_items=False) == []


# --- predictions: recorded with their cause, swept when no job holds them ----------------


def test_promotion_records_the_repredict_and_the_sweep_finds_items_no_job_holds(tags, model_dir, settings):
    settings.TAGLOOP_DISPATCH_GRACE_SECONDS = 0
    active = make_active_model(tags)
    jobs = Job.objects.filter(model_version=active, kind=JobKind.PREDICT)
    assert sorted(i for job in jobs for i in job.content_ids) == sorted(Content.objects.values_list("pk", flat=True))
    # While the promotion's jobs are unfinished, the sweep leaves the items to them.
    assert work_reconcile(sweep=True).swept_items == 0
    for job in jobs:
        predictions_create(model_version_id=active.pk, content_ids=job.content_ids)
    jobs.update(status=JobStatus.DONE)
    orphan = make_content(title="arrived while no job was recorded for it")
    assert Prediction.objects.filter(content=orphan).count() == 0
    assert work_reconcile(sweep=True).swept_items == 1
    assert Job.objects.filter(model_version=active, status=JobStatus.PENDING).get().content_ids == [orphan.pk]


def test_health_counts_items_lacking_the_active_models_prediction_after_the_lag(tags, model_dir):
    active = make_active_model(tags)
    assert [e for e in stalled_work() if e["kind"] == "items_lacking_prediction"] == []  # just promoted
    ModelVersion.objects.filter(pk=active.pk).update(promoted_at=_stale(600))
    Content.objects.update(ingested_at=_stale(600))
    [entry] = [e for e in stalled_work() if e["kind"] == "items_lacking_prediction"]
    assert entry["detail"].startswith(f"{Content.objects.count():,} item(s) lack the active model's")
    assert entry["age_seconds"] >= 600


def test_ingesting_with_the_broker_down_answers_201_and_records_the_prediction_job(
    client, tags, model_dir, broker_down, django_capture_on_commit_callbacks
):
    import json

    from labeling.services import source_token_create

    active = make_active_model(tags)
    _, key = source_token_create(source="feed")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/content",
            json.dumps({"id": "n-1", "title": "Serving models with Triton"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )
    assert response.status_code == 201
    content_id = response.json()["items"][0]["id"]
    job = Job.objects.filter(model_version=active, content_ids=[content_id]).get()
    assert (job.status, job.dispatched_at) == (JobStatus.PENDING, None) and job.dispatch_error
    # A retry by the client is a duplicate, and the item is not lost: its job waits for the broker.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(
            "/api/v1/content",
            json.dumps({"id": "n-1", "title": "Serving models with Triton"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )
    assert again.status_code in (200, 201) and Content.objects.filter(external_id="n-1").count() == 1


# --- the real worker ------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_takes_over_a_run_whose_worker_died_and_finishes_it_once(tags, celery_worker_process, settings):
    settings.MODEL_DIR = celery_worker_process["model_dir"]
    make_gold_dataset(tags)
    version = ModelVersion.objects.create(
        number=1,
        algorithm="tfidf-linear",
        status=ModelStatus.TRAINING,
        progress=10,
        stage="cross-validating",
        params={"random_state": 0},
    )
    # What a SIGKILLed worker leaves: a running job whose heartbeat stopped long ago.
    job = Job.objects.create(
        kind=JobKind.TRAIN,
        model_version=version,
        status=JobStatus.RUNNING,
        attempts=1,
        claim_token="dead",
        dispatched_at=_stale(),
        heartbeat_at=_stale(120),
    )
    assert work_reconcile(sweep=False).stale == [job.pk]
    wait_until(
        lambda: ModelVersion.objects.get(pk=version.pk).status == ModelStatus.CANDIDATE,
        timeout=180,
        message="the taken-over run to finish",
    )
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 2) and job.claim_token != "dead"
    assert stalled_work(include_items=False) == []
