"""Per-item OOD flags, live quality, /healthz, /metrics and the monitoring page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from labeling.models import (
    GoldLabel,
    Provenance,
    ReportStatus,
    ReviewReason,
    ReviewStatus,
    ReviewTask,
    Split,
    TagOrigin,
    WrongTagReport,
)
from predictions.models import ModelVersion, Prediction
from predictions.selectors.monitoring import live_metrics
from predictions.selectors.ood import ood_checks_for
from predictions.services import predictions_create
from tests.factories import lose_artifact, make_active_model, make_content

pytestmark = pytest.mark.django_db

OFF_TOPIC = (
    "Cheap flights and hotel deals this summer",
    "Book your holiday today with free cancellation, breakfast included and a sea view from every room.",
)


# --- out-of-distribution flags ---------------------------------------------------------


def test_a_flagged_item_is_not_auto_tagged_and_goes_to_review(tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    assert ood_checks_for(version) is not None  # training fitted them
    normal = make_content(title="object detection in video frames 9", description="A note on object detection.")
    odd = make_content(title=OFF_TOPIC[0], description=OFF_TOPIC[1])
    predictions_create(model_version_id=version.pk, content_ids=[normal.pk, odd.pk])
    normal.refresh_from_db()
    odd.refresh_from_db()
    assert not normal.is_out_of_distribution and normal.current_tag_origin == TagOrigin.MODEL
    assert odd.is_out_of_distribution and odd.ood_reasons
    assert set(odd.ood_reasons) <= {"garbage", "language", "oov", "surprise"}
    assert odd.current_tag is None and odd.current_tag_origin == TagOrigin.NONE
    reasons = set(ReviewTask.objects.filter(content=odd, status=ReviewStatus.OPEN).values_list("reason", flat=True))
    assert reasons == {ReviewReason.OUT_OF_DISTRIBUTION}
    assert Prediction.objects.filter(content=odd, model_version=version).exists()  # predicted, just not shown


def test_a_false_alarm_closes_the_task_and_the_next_pass_shows_the_tag(client, admin_user, tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    odd = make_content(title=OFF_TOPIC[0], description=OFF_TOPIC[1])
    predictions_create(model_version_id=version.pk, content_ids=[odd.pk])
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:labeling_content_changelist"), {"action": "mark_ood_false_alarm", "_selected_action": [odd.pk]}
    )
    assert response.status_code == 302
    odd.refresh_from_db()
    assert odd.ood_dismissed and odd.is_out_of_distribution  # the record stays, its effect goes
    task = ReviewTask.objects.get(content=odd, reason=ReviewReason.OUT_OF_DISTRIBUTION)
    assert task.status == ReviewStatus.CANCELLED
    predictions_create(model_version_id=version.pk, content_ids=[odd.pk])  # the next pass
    odd.refresh_from_db()
    assert odd.current_tag_origin == TagOrigin.MODEL and odd.current_model_version == version.number
    assert not ReviewTask.objects.filter(
        content=odd, reason=ReviewReason.OUT_OF_DISTRIBUTION, status=ReviewStatus.OPEN
    ).exists()


def test_a_task_someone_holds_stays_open_after_a_false_alarm(tags, annotator, model_dir, settings):
    from labeling.services import content_dismiss_out_of_distribution, review_task_next

    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    odd = make_content(title=OFF_TOPIC[0], description=OFF_TOPIC[1])
    predictions_create(model_version_id=version.pk, content_ids=[odd.pk])
    held = review_task_next(user=annotator)
    assert held.content_id == odd.pk
    assert content_dismiss_out_of_distribution(content_ids=[odd.pk]) == 1
    held.refresh_from_db()
    assert held.status == ReviewStatus.OPEN


def test_versions_without_checks_flag_nothing(tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    ModelVersion.objects.filter(pk=version.pk).update(ood_checks={})
    version.refresh_from_db()
    odd = make_content(title=OFF_TOPIC[0], description=OFF_TOPIC[1])
    predictions_create(model_version_id=version.pk, content_ids=[odd.pk])
    odd.refresh_from_db()
    assert not odd.is_out_of_distribution and odd.current_tag_origin == TagOrigin.MODEL


# --- live quality -------------------------------------------------------------------


def _decided(content, tag, *, at, audit=False, report=False):
    GoldLabel.objects.create(
        content=content, tag=tag, provenance=Provenance.ANNOTATOR, split=Split.TRAIN, decided_at=at
    )
    if audit:
        ReviewTask.objects.create(
            content=content, reason=ReviewReason.AUDIT_SAMPLE, status=ReviewStatus.DONE, resolved_at=at
        )
    if report:
        WrongTagReport.objects.create(content=content, status=ReportStatus.ACCEPTED, resolved_at=at)


def test_live_metrics_on_a_hand_made_case(tags):
    now = timezone.now()
    v1 = ModelVersion.objects.create(
        number=1, algorithm="tfidf-linear", status="active", metrics={"overall": {"f1": 0.9}}
    )
    v2 = ModelVersion.objects.create(number=2, algorithm="tfidf-linear", status="candidate")
    cv, nlp, mlops = tags["computer-vision"], tags["natural-language-processing"], tags["mlops"]
    # gold, v1's prediction, evidence
    cases = [(cv, cv, "audit"), (nlp, nlp, "audit"), (nlp, cv, "audit"), (mlops, nlp, "report")]
    for offset, (gold, predicted, evidence) in enumerate(cases):
        content = make_content(title=f"item {offset}")
        Prediction.objects.create(
            content=content,
            model_version=v1,
            tag=predicted,
            probabilities={},
            confidence=0.9,
            created_at=now - timedelta(days=2),
        )
        # v2 predicted after the decision: it must not count.
        Prediction.objects.create(
            content=content, model_version=v2, tag=gold, probabilities={}, confidence=0.9, created_at=now
        )
        _decided(
            content,
            gold,
            at=now - timedelta(days=1, minutes=10 - offset),
            audit=evidence == "audit",
            report=evidence == "report",
        )
    make_content(title="imported, not live evidence")  # no gold: ignored

    [row] = live_metrics(window=2)
    assert row["version"] == 1 and row["offline_f1"] == 0.9
    assert row["evidence"] == {"audit": 3, "report": 1}
    cumulative = row["cumulative"]
    # Support-weighted: cv P=.5 R=1 F=2/3 (1 item); nlp P=.5 R=.5 F=.5 (2); mlops 0 (1).
    assert cumulative["n"] == 4
    assert cumulative["precision"] == pytest.approx(0.375, abs=1e-3)
    assert cumulative["recall"] == pytest.approx(0.5, abs=1e-3)
    assert cumulative["f1"] == pytest.approx((2 / 3 + 1.0) / 4, abs=1e-3)
    low, high = cumulative["intervals"]["f1"]
    assert 0.0 <= low <= cumulative["f1"] <= high <= 1.0
    # Audits only: cv P=.5 R=1 F=2/3; nlp P=1 R=.5 F=2/3.
    assert row["audit_only"]["n"] == 3 and row["audit_only"]["f1"] == pytest.approx(2 / 3, abs=1e-3)
    # The window holds the last two decisions: both wrong.
    assert row["window"]["n"] == 2 and row["window"]["f1"] == 0.0


# --- /healthz and /metrics ----------------------------------------------------------


def test_healthz_is_200_with_details(client, tags):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "broker", "model"}
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_is_503_naming_a_broken_model(client, tags, model_dir):
    version = make_active_model(tags)
    assert client.get("/healthz").json()["checks"]["model"]["ok"]
    lose_artifact(version)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["model"] and "missing" in body["checks"]["model"]["detail"]


def test_healthz_is_503_naming_an_unreachable_broker(client, tags, monkeypatch, settings):
    from config.celery import app

    settings.TAGLOOP_HEALTH_BROKER_TIMEOUT = 0.5
    # broker_write_url first: reading it falls back to broker_url, so patching broker_url
    # first would make monkeypatch "restore" the write URL to the unreachable one.
    monkeypatch.setattr(app.conf, "broker_write_url", None)
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["failed"] == ["broker"]


def test_metrics_are_off_without_a_token(client, settings):
    settings.TAGLOOP_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token_and_speak_prometheus_text(client, tags, settings):
    settings.TAGLOOP_METRICS_TOKEN = "s3cret"
    make_content(source="feed")
    make_content(source="feed", title="another")
    task_content = make_content(source="other", title="a third")
    ReviewTask.objects.create(content=task_content, reason=ReviewReason.LOW_CONFIDENCE)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? -?\d+(\.\d+)?$')
    for line in text.strip().splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or sample.match(line), line
    assert 'tagloop_content{source="feed"} 2' in text
    assert 'tagloop_review_tasks_open{reason="low_confidence"} 1' in text
    assert 'tagloop_review_tasks_open{reason="report"} 0' in text
    assert "tagloop_active_model_version 0" in text
    assert "# TYPE tagloop_drift_detected gauge" in text


# --- the monitoring page ------------------------------------------------------------


def test_the_monitoring_page_per_role(client, tags, annotator, reviewer, admin_user):
    url = reverse("monitoring:page")
    assert url == "/monitoring/"
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(annotator)
    assert client.get(url).status_code == 403
    assert client.post(reverse("monitoring:check-drift")).status_code == 403
    client.force_login(reviewer)
    page = client.get(url).content.decode()
    assert "<h1>Monitoring</h1>" in page and "Check drift now" not in page
    assert client.post(reverse("monitoring:check-drift")).status_code == 403
    client.force_login(admin_user)
    assert "Check drift now" in client.get(url).content.decode()


def test_the_monitoring_page_draws_the_series(client, tags, reviewer):
    for index in range(3):
        make_content(source="feed", title=f"item {index}")
    make_content(source="other", title="other item")
    client.force_login(reviewer)
    page = client.get(reverse("monitoring:page")).content.decode()
    assert 'aria-label="items per source per day"' in page
    assert "<title>feed " in page and ": 3</title>" in page
    assert "Monitoring</a>" in page  # the nav link
