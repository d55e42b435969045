"""Per-user API keys: made with ``secrets``, stored as sha256 beside a short visible prefix.

The key is returned once, at creation, and never stored: a lost key is revoked and
replaced, never recovered. A request finds the row by the key's prefix and compares the
hashes in constant time, so the lookup tells nothing about other keys.

Each process keeps a token it found (with its user) for TAGLOOP_API_TOKEN_CACHE_SECONDS, so
a script's requests cost no query each: revoking a key forgets it at once in the process
that revoked it, and every other process reads it again, and refuses it, within that time
(a deactivated account, a changed role, likewise).
"""

import hashlib
import hmac
import secrets
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from labeling.models import ApiToken

# "tlu_" tells a user's key from a source's ("tl_", labeling/services/tokens.py) at a glance.
KEY_PREFIX = "tlu_"
PREFIX_LENGTH = 12  # "tlu_" + 8 random characters: shown on the user's page, indexed for lookup
MAX_KEY_LENGTH = 200
MAX_NAME_LENGTH = 100
# last_used_at is written at most this often per key, not on every request.
TOUCH_EVERY = timedelta(minutes=1)
# Tokens a process keeps at most (the oldest read is dropped first): a process serves few keys.
RECENT_MAX = 1000

_recent: dict[str, tuple[float, ApiToken]] = {}  # key's sha256 -> (when read, the token and its user)
_recent_lock = threading.Lock()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new key for ``user``; returns the row and the key, which is shown once."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("Give the token a name: what will use it?")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"A token's name has at most {MAX_NAME_LENGTH} characters.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_prefix=key[:PREFIX_LENGTH], key_hash=_hash(key))
    return token, key


def api_token_revoke(*, user, token_id: int) -> bool:
    """Revoke one of ``user``'s own keys; False if none was active.

    This process refuses it from now on, the others within TAGLOOP_API_TOKEN_CACHE_SECONDS.
    """
    revoked = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _forget(token_id)
    return revoked == 1


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The active token for ``key`` of an active user, or None (unknown, revoked, or the user deactivated)."""
    if not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
        return None
    digest = _hash(key)
    token = _recently_read(digest)
    if token is None:
        token = _read(key, digest)
        if token is None:
            return None  # nothing is kept of a refused key: a new or reactivated one works at once
        _remember(digest, token)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _read(key: str, digest: str) -> ApiToken | None:
    candidates = ApiToken.objects.filter(key_prefix=key[:PREFIX_LENGTH], revoked_at__isnull=True).select_related("user")
    token = next((row for row in candidates if hmac.compare_digest(row.key_hash, digest)), None)
    if token is None or not token.user.is_active:
        return None
    return token


def _recently_read(digest: str) -> ApiToken | None:
    kept = _recent.get(digest)
    if kept is None or time.monotonic() - kept[0] >= settings.TAGLOOP_API_TOKEN_CACHE_SECONDS:
        return None
    return kept[1]


def _remember(digest: str, token: ApiToken) -> None:
    if settings.TAGLOOP_API_TOKEN_CACHE_SECONDS <= 0:
        return
    with _recent_lock:
        _recent.pop(digest, None)  # re-inserted last: the loop below drops the oldest reads
        _recent[digest] = (time.monotonic(), token)
        while len(_recent) > RECENT_MAX:
            del _recent[next(iter(_recent))]


def _forget(token_id: int) -> None:
    with _recent_lock:
        for digest in [digest for digest, (_, token) in _recent.items() if token.pk == token_id]:
            del _recent[digest]
