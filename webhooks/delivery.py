"""Delivering webhooks on the workers: claim, POST signed, record, retry with exponential backoff.

A delivery is claimed in the database (pending and due -> sending) before it is sent, so a
message delivered twice sends once. A failed attempt (no answer, a timeout, any status
outside 2xx, redirects included) schedules the next one after ``backoff * 2**(attempts-1)``
seconds (capped), until ``TAGLOOP_WEBHOOK_MAX_ATTEMPTS``; then the delivery is ``failed``.
The sweep (celery beat) re-sends due deliveries whose message was lost and takes back
deliveries whose worker died while sending.
"""

import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks.addresses import url_refusal
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.signing import HEADER, signature

logger = logging.getLogger(__name__)
EXCERPT = 500  # characters of the receiver's answer kept in the log


def deliveries_dispatch(*, delivery_ids: list[int], countdown: float = 0) -> None:
    """Wake a worker for each delivery. Never raises: the sweep sends what could not be sent."""
    from webhooks.tasks import deliver

    for delivery_id in delivery_ids:
        try:
            deliver.apply_async(args=[delivery_id], countdown=countdown)
        except Exception as exc:  # kombu raises several types for a broker that is down
            logger.warning("webhooks: could not send delivery %s to the broker (%s); the sweep will", delivery_id, exc)
            return


def delivery_attempt(delivery_id: int) -> str | None:
    """The task's body: one attempt at one delivery; returns its status afterwards (None: not ours to try)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    refusal = url_refusal(delivery.endpoint.url)
    if refusal is not None:
        # Not a failure that waiting cures: the URL itself is not allowed.
        return _record(delivery, None, "", f"refused: {refusal}"[:EXCERPT], give_up=True)
    status_code, body, error = _post(delivery)
    return _record(delivery, status_code, body, error)


def _claim(delivery_id: int) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
            .first()
        )
        if delivery is None:
            return None
        delivery.status, delivery.claimed_at = DeliveryStatus.SENDING, timezone.now()
        delivery.save(update_fields=["status", "claimed_at"])
    return delivery


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer like any other non-2xx: a failed attempt


_opener = urllib.request.build_opener(_NoRedirects)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "tagloop-webhooks",
        "X-Tagloop-Event": delivery.event,
        "X-Tagloop-Delivery": str(delivery.event_id),
        HEADER: signature(delivery.endpoint.secret, int(time.time()), body),
    }
    request = urllib.request.Request(delivery.endpoint.url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.TAGLOOP_WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, _excerpt(response), ""
    except urllib.error.HTTPError as exc:
        return exc.code, _excerpt(exc), ""
    except (OSError, ValueError) as exc:  # refused, timed out, bad address
        return None, "", f"{type(exc).__name__}: {exc}"[:EXCERPT]


def _excerpt(response) -> str:
    try:
        return response.read(EXCERPT * 4).decode("utf-8", errors="replace")[:EXCERPT]
    except OSError:
        return ""


def _record(delivery: WebhookDelivery, status_code: int | None, body: str, error: str, *, give_up: bool = False) -> str:
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code = now, status_code
    delivery.last_response, delivery.last_error, delivery.claimed_at = body.replace("\x00", ""), error, None
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
    elif give_up or delivery.attempts >= settings.TAGLOOP_WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        logger.warning("webhooks: delivery %s failed after %s attempts", delivery.pk, delivery.attempts)
    else:
        delay = backoff_seconds(delivery.attempts)
        delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now + timedelta(seconds=delay)
    delivery.save()
    if delivery.status == DeliveryStatus.PENDING:
        deliveries_dispatch(delivery_ids=[delivery.pk], countdown=(delivery.next_attempt_at - now).total_seconds())
    return delivery.status


def backoff_seconds(attempts: int) -> float:
    """The wait after ``attempts`` failed attempts: doubling from the base, capped."""
    base, cap = settings.TAGLOOP_WEBHOOK_BACKOFF_SECONDS, settings.TAGLOOP_WEBHOOK_BACKOFF_MAX_SECONDS
    return min(cap, base * 2 ** (attempts - 1))


def deliveries_sweep(*, now=None) -> list[int]:
    """Send again what no worker will: due deliveries whose message was lost, and those of a dead worker."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.TAGLOOP_WEBHOOK_TIMEOUT_SECONDS * 2 + 30)
    stuck = WebhookDelivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - grace)
    abandoned = list(stuck.values_list("pk", flat=True))
    # The attempt of a worker that died is not counted: it may never have reached the receiver.
    WebhookDelivery.objects.filter(pk__in=abandoned).update(
        status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=now
    )
    lost = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lt=now - grace)
    due = [*abandoned, *lost.values_list("pk", flat=True)]
    if due:
        logger.warning("webhooks: sending %s delivery(ies) again (message lost or worker gone)", len(due))
    deliveries_dispatch(delivery_ids=due)
    return due
