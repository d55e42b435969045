"""The signature of a delivery: ``X-Tagloop-Signature: t=<unix time>,v1=<hex HMAC-SHA256>``.

The HMAC covers ``"<t>.<raw body>"`` with the endpoint's secret, so a receiver checks both the
body and its age (reject old timestamps to stop replays; 5 minutes is usual).
"""

import hashlib
import hmac
import time

HEADER = "X-Tagloop-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does: the header's HMAC matches and its timestamp is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")
