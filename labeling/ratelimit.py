"""The wrong-tag reports' budget, on the fixed-window limit of common.ratelimit, for HTML forms and the API alike."""

from django.conf import settings

from common.ratelimit import parse_rate, retry_after

__all__ = ["parse_rate", "retry_after", "report_rate_wait", "wait_in_words"]


def wait_in_words(seconds: int) -> str:
    """How long to wait, for people: seconds up to a minute and a half, then whole minutes."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)  # rounded up: "try again in 46 minutes" must not be too early
    return f"{minutes} minutes"


def report_rate_wait(request) -> int | None:
    """Count one wrong-tag report by this reporter; the seconds to wait if over the limit.

    Called once a report is valid, so a rejected request (unknown item, bad tag)
    costs the reporter nothing.

    One budget per reporter whether they report on the page or through the API: a
    signed-in reporter by account, an anonymous one by the hash of their address.
    """
    from labeling.services import client_address, reporter_hash

    user = request.user
    identity = f"user:{user.pk}" if user.is_authenticated else reporter_hash(client_address(request))
    return retry_after(
        scope="reports", identity=identity, rate=settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["reports"]
    )
