"""A DRF throttle on common.ratelimit's fixed windows: one counter per client, one round trip.

It keeps ScopedRateThrottle's scopes, rates (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) and
client identity (the account, else the address as TAGLOOP_NUM_PROXIES reads it), and DRF
answers 429 with Retry-After from ``wait()`` as before.
"""

from rest_framework.throttling import ScopedRateThrottle

from common.ratelimit import retry_after


class WindowRateThrottle(ScopedRateThrottle):
    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        identity = self.get_cache_key(request, view)
        if self.rate is None or identity is None:
            return True
        self._wait = retry_after(scope="throttle", identity=identity, rate=self.rate)
        return self._wait is None

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
