"""Per-source API keys for streaming ingestion: made with ``secrets``, stored as sha256 + prefix.

The key itself is returned once, at creation; only its hash is kept, so a lost key is
revoked and replaced, never recovered.
"""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from labeling.models import SourceToken

KEY_PREFIX = "tl_"
PREFIX_LENGTH = 10  # "tl_" + 7 characters: enough to tell keys apart in the admin
# last_used_at is written at most this often per key, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def source_token_create(*, source: str, name: str = "", created_by=None) -> tuple[SourceToken, str]:
    """A new key for ``source``; returns the row and the key, which is shown once and never stored."""
    source = source.strip()
    if not source:
        raise ValueError("a token needs a source")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = SourceToken.objects.create(
        source=source, name=name, key_prefix=key[:PREFIX_LENGTH], key_hash=key_hash(key), created_by=created_by
    )
    return token, key


def source_token_revoke(*, token_ids: list[int]) -> int:
    """Revoke keys at once (requests with them get 401); returns how many were still active."""
    return SourceToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).update(revoked_at=timezone.now())


def source_token_authenticate(*, key: str) -> SourceToken | None:
    """The active token for ``key``, or None (unknown or revoked). Looked up by hash only."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = SourceToken.objects.filter(key_hash=key_hash(key), revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        SourceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
