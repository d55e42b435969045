"""Who a request comes from, as far as the proxies in front can be trusted.

X-Forwarded-For is a list each proxy appends to; everything left of what our own
proxies wrote is whatever the client chose to send. With TAGLOOP_NUM_PROXIES = 0 the
header is ignored and the connection's address (REMOTE_ADDR) is the client; with N,
the N-th address from the right is the one the outermost trusted proxy saw. DRF's
throttles get the same count (REST_FRAMEWORK["NUM_PROXIES"]) and apply the same rule.
"""

from django.conf import settings


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the trusted entry of X-Forwarded-For behind proxies."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TAGLOOP_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded.strip():
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    # Fewer entries than proxies means a proxy did not append: take the leftmost, as DRF
    # does, which at worst is the address a misconfigured proxy chain let through.
    return hops[-min(proxies, len(hops))]
