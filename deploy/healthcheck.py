"""The image's HEALTHCHECK: exit 0 when the web process answers /healthz/ready with 200.

Readiness (database, broker, active model loaded), not /healthz: stalled work elsewhere
(a worker's retrain) is for alerts, not a reason to call this container unhealthy.

Not curl: the runtime image has Python and nothing else. The request names a host the
settings allow (the first of DJANGO_ALLOWED_HOSTS), or Django would answer 400.
TAGLOOP_HEALTHCHECK_URL changes what is asked (another port, a liveness path).
"""

import os
import sys
import urllib.error
import urllib.request

URL = os.environ.get("TAGLOOP_HEALTHCHECK_URL", "http://127.0.0.1:8000/healthz/ready")


def allowed_host() -> str | None:
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    named = [h.lstrip(".") for h in hosts if h != "*"]
    return named[0] if named else None


def main() -> int:
    host = allowed_host()
    request = urllib.request.Request(URL, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{URL}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
