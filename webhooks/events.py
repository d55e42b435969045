"""The one way to announce an event to webhook endpoints: :func:`emit`.

Call it inside the transaction that makes the change: a delivery row is written per
subscribed endpoint in that transaction and sent to the workers once it commits (a rolled
back change announces nothing; a broker that is down delays the delivery, the sweep sends it).
"""

from functools import partial

from django.db import transaction
from django.utils import timezone

from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


def emit(event: str, data: dict) -> list[WebhookDelivery]:
    """Record ``event`` with ``data`` (JSON-serialisable) for every active endpoint that wants it."""
    event = Event(event)  # an unknown name is a programming error: fail loudly
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(is_active=True) if event in endpoint.events]
    return _record(event, data, endpoints)


def emit_test(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """The "send test" button: a ``ping`` to this endpoint whatever its events, active or not."""
    return _record(Event.PING, {"message": "a test from tagloop", "endpoint": endpoint.pk}, [endpoint])[0]


def threshold_changed(
    *,
    model_version: int,
    old: float | None,
    new: float | None,
    changed_by: str = "",
    reason: str = "",
    source: str = "",
    action: str = "",
    evidence: dict | None = None,
):
    """For whoever changes a review threshold: announce it (``threshold.changed``).

    ``new`` None: a pin was lifted and the automation's or the model's own threshold applies again.
    """
    data = {
        "model_version": model_version,
        "source": source,
        "action": action,
        "old": old,
        "new": new,
        "changed_by": changed_by,
        "reason": reason,
        "evidence": evidence or {},
    }
    return emit(Event.THRESHOLD_CHANGED, data)


def _record(event: Event, data: dict, endpoints: list[WebhookEndpoint]) -> list[WebhookDelivery]:
    if not endpoints:
        return []
    now = timezone.now()
    deliveries = [
        WebhookDelivery(endpoint=endpoint, event=event, created_at=now, next_attempt_at=now) for endpoint in endpoints
    ]
    for delivery in deliveries:
        delivery.payload = {
            "id": str(delivery.event_id),
            "event": str(event),
            "created_at": now.isoformat(),
            "data": data,
        }
    WebhookDelivery.objects.bulk_create(deliveries)
    from webhooks.delivery import deliveries_dispatch

    transaction.on_commit(partial(deliveries_dispatch, delivery_ids=[delivery.pk for delivery in deliveries]))
    return deliveries
