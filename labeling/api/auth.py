"""HTTP Basic on the API, behind the same login lockout as the login pages (labeling.login_throttle)."""

from drf_spectacular.authentication import BasicScheme
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from labeling.login_throttle import LoginLocked, authenticate_throttled


class ThrottledBasicAuthentication(BasicAuthentication):
    """A locked-out username and address get 429 with Retry-After, even with the right password."""

    def authenticate_credentials(self, userid, password, request=None):
        try:
            user = authenticate_throttled(request, username=userid, password=password)
        except LoginLocked as locked:
            raise Throttled(
                wait=locked.wait, detail="Too many failed logins for this account from your address."
            ) from None
        if user is None:
            # authenticate() refuses inactive users too (ModelBackend), with the same answer.
            raise AuthenticationFailed("Invalid username/password.")
        return user, None


class ThrottledBasicScheme(BasicScheme):
    """The API docs describe it as the HTTP Basic it is."""

    target_class = ThrottledBasicAuthentication
