"""Window drift checks: stored per window, on demand and through the API; the page alerts."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from predictions.models import DriftCheck, Job, JobStatus
from predictions.services import drift_checks_run, predictions_create
from tests.factories import SYNTHETIC, make_active_model, make_content

pytestmark = pytest.mark.django_db

OFF_TOPIC = [
    "Cheap flights and hotel deals",
    "Best pizza recipes for the weekend",
    "City council votes on parking fees",
    "Football transfer rumours",
    "Garden furniture on sale",
    "How to knit a winter scarf",
    "Celebrity wedding photos",
    "Mortgage rates rise again",
    "Top ten beaches in Portugal",
    "Vintage cars auction results",
]


@pytest.fixture
def stream(tags, model_dir, settings):
    """An active model; a source like the training data and a source of unrelated text, both predicted."""
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    settings.TAGLOOP_DRIFT_MIN_ITEMS = 20
    version = make_active_model(tags)
    ids = []
    for copy in (5, 6):  # the same phrases as training and holdout (one-character tokens are not words)
        for phrases in SYNTHETIC.values():
            for phrase in phrases:
                ids.append(make_content(title=f"{phrase} {copy}", description=f"A note on {phrase}.", source="feed").pk)
    for copy in range(3):
        for text in OFF_TOPIC:
            ids.append(
                make_content(title=f"{text} {copy}", description=f"Read all about {text.lower()}.", source="spam").pk
            )
    predictions_create(model_version_id=version.pk, content_ids=ids)
    return version


def test_each_window_is_checked_against_the_holdout_reference_and_stored(stream):
    checks = {check.source: check for check in drift_checks_run()}
    assert set(checks) == {"", "feed", "spam"}  # all sources, then each; the holdout is never a window
    assert (checks["feed"].n, checks["spam"].n, checks[""].n) == (40, 30, 70)
    assert not checks["feed"].drifted
    assert checks["spam"].drifted
    stored = DriftCheck.objects.get(source="spam")
    names = [test["name"] for test in stored.tests]
    assert names == [
        "predicted-tags",
        "confidence",
        "text-length",
        "oov-share",
        "domain-classifier",
        "overall (Bonferroni)",
    ]
    assert stored.model_version == stream and stored.window_start <= stored.window_end
    assert all(0.0 <= test["p_value"] <= 1.0 and test["alpha"] == 0.01 for test in stored.tests)


def test_a_window_smaller_than_the_minimum_is_not_checked(stream, settings):
    settings.TAGLOOP_DRIFT_MIN_ITEMS = 35
    assert {check.source for check in drift_checks_run()} == {"", "feed"}


def test_no_active_model_no_checks(tags):
    assert drift_checks_run() == []


def test_the_command_runs_the_checks_and_prints_them(stream, capsys):
    call_command("check_drift")
    out = capsys.readouterr().out
    assert "spam: n=30 drifted=yes" in out and "feed: n=40 drifted=no" in out
    assert DriftCheck.objects.count() == 3


def test_the_api_returns_the_latest_checks_to_reviewers_only(client, stream, reviewer, annotator):
    drift_checks_run()
    drift_checks_run()  # only the latest of each window is returned
    url = reverse("api-drift")
    assert url == "/api/v1/drift"
    assert client.get(url).status_code == 401
    client.force_login(annotator)
    assert client.get(url).status_code == 403
    client.force_login(reviewer)
    body = client.get(url).json()
    assert [check["source"] for check in body["checks"]] == ["all", "feed", "spam"]
    by_source = {check["source"]: check for check in body["checks"]}
    assert by_source["spam"]["drifted"] and not by_source["feed"]["drifted"]
    assert body["drifted"] == by_source["all"]["drifted"]
    assert by_source["spam"]["tests"][-1]["details"]["fired"]
    assert by_source["spam"]["model_version"] == stream.number


def test_the_monitoring_page_alerts_when_the_latest_overall_check_drifted(client, stream, reviewer):
    drift_checks_run()
    client.force_login(reviewer)
    overall = DriftCheck.objects.get(source="")
    page = client.get(reverse("monitoring:page")).content.decode()
    assert ('id="drift-alert"' in page) == overall.drifted
    assert 'aria-label="drift p-values"' in page
    DriftCheck.objects.filter(pk=overall.pk).update(drifted=False)
    assert 'id="drift-alert"' not in client.get(reverse("monitoring:page")).content.decode()


def test_the_button_queues_a_check_that_the_task_runs(client, stream, admin_user, django_capture_on_commit_callbacks):
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True  # run the queued task in this process
    try:
        client.force_login(admin_user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("monitoring:check-drift"))
    finally:
        app.conf.task_always_eager = previous
    assert response.status_code == 302 and response["Location"] == reverse("monitoring:page")
    assert DriftCheck.objects.filter(source="spam", drifted=True).exists()
    assert Job.objects.get(kind="drift_check").status == JobStatus.DONE  # the click was recorded as a job, and it ran


def test_the_beat_schedule_runs_the_check(settings):
    assert settings.CELERY_BEAT_SCHEDULE["check-drift"]["task"] == "predictions.tasks.check_drift"


def test_a_drifted_window_is_announced_to_webhooks(stream):
    from webhooks.models import Event, WebhookDelivery, WebhookEndpoint

    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", events=[Event.DRIFT_DETECTED])
    checks = {check.source: check for check in drift_checks_run()}
    announced = {
        delivery.payload["data"]["source"]: delivery.payload["data"] for delivery in WebhookDelivery.objects.all()
    }
    assert set(announced) == {source for source, check in checks.items() if check.drifted} and "spam" in announced
    assert announced["spam"]["check_id"] == checks["spam"].pk and announced["spam"]["items"] == 30
    assert announced["spam"]["tests_drifted"]
