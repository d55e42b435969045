"""Signals the human side sends so the machine side can react without being imported here."""

from django.dispatch import Signal

# Sent (inside the writing transaction) with ``content_ids``: new or changed content to predict.
content_ingested = Signal()

# Sent (inside the writing transaction) with ``content_id``, ``source`` and ``reason`` (the
# review reason that decided it): people decided an item's gold label.
gold_label_decided = Signal()
