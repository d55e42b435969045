"""Signals the human side sends so the machine side can react without being imported here."""

from django.dispatch import Signal

# Sent (inside the writing transaction) with ``content_ids``: new or changed content to predict.
content_ingested = Signal()
