"""Webhooks: events recorded with their cause, signed, delivered by a real worker with retries and backoff.

The receiver is a tiny http.server on loopback, in a thread of this process, that fails the
first attempts; the worker is a real ``celery worker`` process on the test database.
"""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from labeling.services import gold_label_set, review_task_answer
from predictions.models import ModelStatus, ModelVersion
from predictions.services.trust import threshold_pin
from tests.conftest import celery_worker, wait_until
from tests.factories import make_active_model, make_candidate, make_content
from webhooks.addresses import url_refusal
from webhooks.delivery import backoff_seconds, deliveries_sweep, delivery_attempt
from webhooks.events import emit, emit_test, threshold_changed
from webhooks.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint
from webhooks.signing import HEADER, signature, verify

pytestmark = pytest.mark.django_db


class Receiver:
    """Answers ``fail_first`` requests with 500, then 200; keeps every request it got."""

    def __init__(self, fail_first: int):
        self.fail_first = fail_first
        self.requests: list[tuple[float, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((time.monotonic(), dict(self.headers), body))
                failing = len(receiver.requests) <= receiver.fail_first
                self.send_response(500 if failing else 200)
                self.end_headers()
                self.wfile.write(b"try again later" if failing else b"thanks")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def webhook_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real worker with a short backoff (0.5 s, doubling) and four attempts per delivery."""
    env = {"TAGLOOP_WEBHOOK_BACKOFF_SECONDS": "0.5", "TAGLOOP_WEBHOOK_MAX_ATTEMPTS": "4"}
    with celery_worker(tmp_path_factory, env) as log_path:
        yield log_path


def _endpoint(url="http://127.0.0.1:9/hook", events=(Event.GOLD_LABEL_DECIDED,), **fields):
    return WebhookEndpoint.objects.create(url=url, events=list(events), **fields)


@pytest.mark.django_db(transaction=True)
def test_a_worker_retries_a_failing_receiver_with_backoff_until_it_answers(tags, webhook_worker):
    with Receiver(fail_first=2) as receiver:
        endpoint = _endpoint(receiver.url)
        with transaction.atomic():
            emit(Event.GOLD_LABEL_DECIDED, {"content_id": 1, "tag": "mlops"})
            assert WebhookDelivery.objects.count() == 1  # recorded with the change, sent after commit
        delivery = wait_until(
            lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first(),
            timeout=60,
            message="the delivery to succeed",
        )
    assert (delivery.attempts, delivery.last_status_code, delivery.last_response) == (3, 200, "thanks")
    assert len(receiver.requests) == 3
    times = [at for at, _, _ in receiver.requests]
    # Waits of 0.5 s then 1 s (exponential), give or take the worker's own pace.
    assert times[1] - times[0] >= 0.45 and times[2] - times[1] >= 0.95
    ids = {headers["X-Tagloop-Delivery"] for _, headers, _ in receiver.requests}
    assert ids == {str(delivery.event_id)}  # one event, retried: the receiver can tell
    for _, headers, body in receiver.requests:
        assert headers["X-Tagloop-Event"] == "gold_label.decided"
        assert verify(endpoint.secret, headers[HEADER], body)
        assert not verify("another secret", headers[HEADER], body)
    payload = json.loads(receiver.requests[-1][2])
    assert payload["event"] == "gold_label.decided" and payload["data"] == {"content_id": 1, "tag": "mlops"}


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_never_answers_well_fails_the_delivery_after_the_last_attempt(tags, webhook_worker):
    with Receiver(fail_first=100) as receiver:
        _endpoint(receiver.url, events=[Event.MODEL_PROMOTED])
        with transaction.atomic():
            emit(Event.MODEL_PROMOTED, {"version": 2})
        delivery = wait_until(
            lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED).first(),
            timeout=60,
            message="the delivery to be given up",
        )
    assert (delivery.attempts, delivery.last_status_code, delivery.last_response) == (4, 500, "try again later")
    assert len(receiver.requests) == 4


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_announces_nothing(tags):
    _endpoint()
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(Event.GOLD_LABEL_DECIDED, {"content_id": 1})
        raise RuntimeError("the change failed")
    assert WebhookDelivery.objects.count() == 0


def test_only_active_endpoints_that_want_the_event_get_it(tags):
    wants = _endpoint(events=[Event.GOLD_LABEL_DECIDED, Event.REPORT_RESOLVED])
    _endpoint(events=[Event.DRIFT_DETECTED])
    _endpoint(events=[Event.GOLD_LABEL_DECIDED], is_active=False)
    emit(Event.GOLD_LABEL_DECIDED, {"x": 1})
    assert list(WebhookDelivery.objects.values_list("endpoint", "event")) == [(wants.pk, "gold_label.decided")]
    with pytest.raises(ValueError):
        emit("gold.typo", {})


def test_signatures_cover_the_body_and_the_time():
    body = b'{"event":"ping"}'
    header = signature("s3cret", 1_700_000_000, body)
    assert verify("s3cret", header, body, now=1_700_000_100)
    assert not verify("s3cret", header, body + b" ", now=1_700_000_100)
    assert not verify("s3cret", header, body, now=1_700_000_000 + 301)  # too old: a replay
    assert not verify("s3cret", "v1=abc", body)


def test_backoff_doubles_and_is_capped(settings):
    settings.TAGLOOP_WEBHOOK_BACKOFF_SECONDS, settings.TAGLOOP_WEBHOOK_BACKOFF_MAX_SECONDS = 10, 60
    assert [backoff_seconds(n) for n in range(1, 6)] == [10, 20, 40, 60, 60]


def test_gold_label_decisions_and_resolved_reports_are_announced(tags, annotator):
    _endpoint(events=[Event.GOLD_LABEL_DECIDED, Event.REPORT_RESOLVED])
    content = make_content(current_tag=tags["mlops"])
    from labeling.services import report_create

    report, _ = report_create(content=content, reporter_address="10.0.0.1", suggested_tag=tags["other"])
    review_task_answer(task_id=report.review_task_id, user=annotator, tag=tags["other"])
    events = {delivery.event: delivery.payload["data"] for delivery in WebhookDelivery.objects.all()}
    assert events["gold_label.decided"] | {"decided_at": None} == {
        "content_id": content.pk,
        "source": content.source,
        "external_id": content.external_id,
        "tag": "other",
        "provenance": "report",
        "split": "train",
        "version": 1,
        "decided_by": "ann",
        "decided_at": None,
    }
    assert events["report.resolved"]["status"] == "accepted" and events["report.resolved"]["report_id"] == report.pk
    # Setting the same label again decides nothing new.
    gold_label_set(content=content, tag=tags["other"], provenance="report", decided_by=annotator)
    assert WebhookDelivery.objects.filter(event="gold_label.decided").count() == 1


def test_promotions_and_rollbacks_are_announced(tags, model_dir, admin_user):
    from predictions.services import model_version_promote, model_version_rollback

    _endpoint(events=[Event.MODEL_PROMOTED, Event.MODEL_ROLLED_BACK])
    make_active_model(tags)
    second = make_candidate()
    model_version_promote(model_version=second, promoted_by=admin_user, override_reason="test")
    model_version_rollback(rolled_back_by=admin_user, reason="complaints")
    events = [
        (d.event, d.payload["data"]["version"], d.payload["data"]["previous_version"])
        for d in WebhookDelivery.objects.order_by("pk")
    ]
    assert events == [("model.promoted", 1, None), ("model.promoted", 2, 1), ("model.rolled_back", 1, 2)]


def test_threshold_changes_have_one_function_to_call(tags):
    _endpoint(events=[Event.THRESHOLD_CHANGED])
    threshold_changed(model_version=3, old=0.7, new=0.65, changed_by="boss", reason="precision held")
    data = WebhookDelivery.objects.get().payload["data"]
    assert (data["model_version"], data["old"], data["new"], data["changed_by"], data["reason"]) == (
        3,
        0.7,
        0.65,
        "boss",
        "precision held",
    )


def test_a_pinned_threshold_is_announced_with_its_source(tags, admin_user):
    _endpoint(events=[Event.THRESHOLD_CHANGED])
    ModelVersion.objects.create(number=4, algorithm="tfidf-linear", status=ModelStatus.ACTIVE, review_threshold=0.6)
    threshold_pin(source="feed", threshold=0.8, actor=admin_user, reason="new partner, watch it")
    data = WebhookDelivery.objects.get().payload["data"]
    assert (data["model_version"], data["source"], data["action"], data["old"], data["new"]) == (
        4,
        "feed",
        "threshold_pinned",
        0.6,
        0.8,
    )
    assert (data["changed_by"], data["reason"]) == (admin_user.get_username(), "new partner, watch it")


def test_the_sweep_sends_again_lost_and_abandoned_deliveries(tags, private_queue):
    endpoint = _endpoint()
    long_ago = timezone.now() - timedelta(minutes=10)
    lost = WebhookDelivery.objects.create(endpoint=endpoint, event="ping", payload={}, next_attempt_at=long_ago)
    abandoned = WebhookDelivery.objects.create(
        endpoint=endpoint, event="ping", payload={}, status=DeliveryStatus.SENDING, claimed_at=long_ago
    )
    waiting = WebhookDelivery.objects.create(
        endpoint=endpoint, event="ping", payload={}, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert sorted(deliveries_sweep()) == sorted([lost.pk, abandoned.pk])
    abandoned.refresh_from_db()
    waiting.refresh_from_db()
    assert abandoned.status == DeliveryStatus.PENDING and waiting.status == DeliveryStatus.PENDING


def test_admins_register_endpoints_and_send_a_test_from_the_admin(tags, client, admin_user):
    client.force_login(admin_user)
    add = client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "url": "https://hooks.example.org/tagloop",
            "description": "ops channel",
            "events": ["model.promoted", "drift.detected"],
            "is_active": "on",
            "secret": "shared-secret",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.events, endpoint.created_by) == (["model.promoted", "drift.detected"], admin_user)
    page = client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert "Send test" in page
    client.post(reverse("admin:webhooks_webhookendpoint_send_test", args=[endpoint.pk]))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.payload["data"]["endpoint"]) == ("ping", endpoint.pk)
    log = client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert "deliveries (newest first)" in log.lower() and "pending" in log


def test_send_test_is_for_admins_only(tags, client, reviewer):
    endpoint = _endpoint()
    client.force_login(reviewer)
    response = client.post(reverse("admin:webhooks_webhookendpoint_send_test", args=[endpoint.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert emit_test(endpoint).event == "ping"  # the service itself does not check: the view does


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://192.168.0.10/hook",
    ],
)
def test_addresses_inside_the_network_are_refused_unless_allowed(settings, url):
    settings.TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    assert "inside this network" in url_refusal(url)
    settings.TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    assert url_refusal(url) is None


def test_public_and_unresolvable_hosts_pass_and_other_schemes_never_do(settings):
    settings.TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    assert url_refusal("https://93.184.215.14/hook") is None
    # Not resolvable today: the attempt fails and is retried, as for a receiver whose DNS is not ready.
    assert url_refusal("https://hooks.example.invalid/tagloop") is None
    settings.TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    assert "only http and https" in url_refusal("file:///etc/passwd")


def test_a_delivery_to_a_private_address_fails_at_once_without_a_request(tags, settings):
    settings.TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    with Receiver(fail_first=0) as receiver:
        endpoint = _endpoint(receiver.url)
        with transaction.atomic():
            emit(Event.GOLD_LABEL_DECIDED, {"content_id": 1, "tag": "mlops"})
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert delivery_attempt(delivery.pk) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert receiver.requests == [] and delivery.attempts == 1
    assert delivery.last_error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1")


def test_the_admin_refuses_an_endpoint_inside_the_network(tags, client, admin_user, settings):
    settings.TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "url": "http://169.254.169.254/latest/meta-data/",
            "events": ["model.promoted"],
            "is_active": "on",
            "secret": "s",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and not WebhookEndpoint.objects.exists()
    assert "an address inside this network" in response.content.decode()
