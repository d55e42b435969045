"""Which webhook URLs the workers may POST to: public addresses only, unless allowed.

A webhook URL is typed by an admin but fetched by a worker inside the network, so a URL
naming an internal address (the database, the broker, a cloud metadata service on
169.254.169.254, localhost) would let the admin page reach what only the workers should.
The host is resolved and every address it resolves to must be global. The check runs when
the endpoint is saved (a clear error in the admin) and again before each attempt, since a
name can be pointed elsewhere later; the connection resolves the name once more, so a
name that changes within those milliseconds is not covered.

``TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS`` lifts the rule for one machine (development, tests)
or a receiver inside a private network on purpose.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


def url_refusal(url: str) -> str | None:
    """Why the workers must not POST to ``url`` (None: they may).

    A host that does not resolve now is not refused here: the attempt fails on its own and
    is retried, which is what a receiver whose DNS is not set up yet needs.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"only http and https URLs can receive webhooks, not {parts.scheme or 'a URL without a scheme'}"
    if settings.TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return None
    host = parts.hostname or ""
    for address in _addresses(host):
        if not address.is_global:
            return (
                f"{host} resolves to {address}, an address inside this network; webhooks go to public "
                "addresses only (TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS allows private ones)"
            )
    return None


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    # sockaddr[0] of an IPv6 address may carry a scope ("fe80::1%eth0"); the scope is not part of it.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
