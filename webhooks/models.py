"""Webhook endpoints and their deliveries (one row per event and endpoint, all its attempts)."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Event(models.TextChoices):
    GOLD_LABEL_DECIDED = "gold_label.decided", "gold label decided"
    REPORT_RESOLVED = "report.resolved", "wrong-tag report resolved"
    MODEL_PROMOTED = "model.promoted", "model promoted"
    MODEL_ROLLED_BACK = "model.rolled_back", "model rolled back"
    DRIFT_DETECTED = "drift.detected", "drift detected"
    THRESHOLD_CHANGED = "threshold.changed", "review threshold changed"
    PING = "ping", "test (send test)"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=500, help_text="where the events are POSTed (https in production)")
    description = models.CharField(max_length=200, blank=True)
    # The event names (Event values) this endpoint receives.
    events = models.JSONField(default=list, blank=True)
    # Signs each payload (HMAC-SHA256); the receiver keeps the same secret. Stored as is: signing needs it.
    secret = models.CharField(max_length=100, default=new_secret)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.url} ({'active' if self.is_active else 'off'})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"  # waiting for its next attempt (next_attempt_at)
    SENDING = "sending", "sending"  # a worker holds it (claimed_at)
    DELIVERED = "delivered", "delivered"
    FAILED = "failed", "failed"  # every attempt failed


class WebhookDelivery(models.Model):
    """One event for one endpoint, written with its cause; the workers try until it is delivered or given up."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=Event.choices)
    # The same on every attempt, so a receiver can tell a retry from a new event.
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True)  # the start of the last answer's body
    last_error = models.TextField(blank=True)  # a connection error, a timeout
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhook_delivery_unfinished",
            )
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event} to {self.endpoint_id} ({self.status}, {self.attempts} attempt(s))"
