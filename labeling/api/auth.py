"""How API clients sign in: a person's API token, a browser session, or (when turned on) HTTP Basic.

A missing (where needed), unknown, revoked or refused credential is a 401 whose ``WWW-Authenticate``
names the schemes the API takes; a caller who signed in but may not do it gets a 403.

- ``Authorization: Bearer <key>`` (or ``Token <key>``) with a key made on the user's own page
  (/accounts/tokens/): the request acts as that user, with their role's permissions.
- HTTP Basic, behind the same login lockout as the login pages (labeling.login_throttle), only
  when ``TAGLOOP_API_BASIC_AUTH`` is on: a password sent with every request is a password in
  every script and log, so tokens are the way in by default.
"""

from django.conf import settings
from drf_spectacular.authentication import BasicScheme, SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication
from rest_framework.authentication import BaseAuthentication, BasicAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled

from labeling.login_throttle import LoginLocked, authenticate_throttled
from labeling.services.api_tokens import KEY_PREFIX, api_token_authenticate
from labeling.services.tokens import KEY_PREFIX as SOURCE_KEY_PREFIX

USER_TOKEN_KEYWORDS = (b"bearer", b"token")


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session login (and its CSRF check, a 403), first so that a browser's session wins as before.

    DRF takes a refusal's challenge from the first authenticator and answers 403 when it has none, as
    a session has not: a bad token or no credentials were a 403. This one offers the challenges of
    the view's other authenticators, so they are a 401 that says how to sign in.
    """

    def authenticate_header(self, request):
        # DRF asks a new instance of the view's first authenticator: the request's own are other instances.
        others = (other for other in request.authenticators if not isinstance(other, SessionAuthentication))
        challenges = (other.authenticate_header(request) for other in others)
        return ", ".join(challenge for challenge in challenges if challenge) or None


class SessionAuthenticationScheme(SessionScheme):
    """The API docs describe it as the session login it is."""

    target_class = "labeling.api.auth.SessionAuthentication"


class UserTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>`` or ``Token <key>`` with a user's key (``tlu_...``).

    A source's ingestion key (``tl_...``) is left to the other authenticators: only the ingestion
    endpoint reads it (labeling.api.ingest), elsewhere it signs nobody in. Any other key is no
    credential of this API, and a 401, not a request served as if none had been sent.
    """

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() not in USER_TOKEN_KEYWORDS:
            return None
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        if key.startswith(SOURCE_KEY_PREFIX):
            return None
        if not key.startswith(KEY_PREFIX):
            raise AuthenticationFailed("Invalid token.")
        token = api_token_authenticate(key=key)
        if token is None:
            raise AuthenticationFailed("Invalid or revoked API token.")
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = UserTokenAuthentication
    name = "userToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token made at /accounts/tokens/: `Authorization: Bearer <key>` "
            "(`Token <key>` works too). It acts with its owner's permissions.",
        }


class ThrottledBasicAuthentication(BasicAuthentication):
    """Off unless ``TAGLOOP_API_BASIC_AUTH``; a locked-out username and address get 429 with Retry-After."""

    def authenticate(self, request):
        if not settings.TAGLOOP_API_BASIC_AUTH:
            return None
        return super().authenticate(request)

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

    def authenticate_header(self, request):
        # Offered only while it is on: a challenge for a scheme the API refuses would mislead.
        return super().authenticate_header(request) if settings.TAGLOOP_API_BASIC_AUTH else None


class ThrottledBasicScheme(BasicScheme):
    """The API docs describe it as the HTTP Basic it is."""

    target_class = "labeling.api.auth.ThrottledBasicAuthentication"  # its import path, as drf-spectacular's own
