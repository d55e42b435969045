"""While the database is unreachable, requests are answered 503 with Retry-After, never 500.

Django sends any exception a view or a middleware (sessions and auth read the database)
lets through to ``handler500`` with the exception still in ``sys.exc_info()``, which makes
the handler the one place that sees them all. A database that cannot be reached (refused,
reset, restarting) or a connection that broke mid-request is an outage the client should
wait out, not a bug: pages get a short HTML page in the site's look, the API an RFC 9457
problem. Writes happen in transactions, so a request cut off by the outage saved nothing.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views import defaults

from config.api_errors import API_PREFIX

# Long enough for a database restart or failover, short enough that people come back.
RETRY_AFTER_SECONDS = 10
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable_error(error: BaseException | None) -> BaseException | None:
    """The database error behind ``error`` (itself, or what it was raised while handling), if any."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, UNAVAILABLE_ERRORS):
            return error
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """handler500: 503 for an unreachable database, Django's 500 page for everything else."""
    if database_unavailable_error(sys.exc_info()[1]) is not None:
        return service_unavailable(request)
    return defaults.server_error(request, template_name)


def service_unavailable(request) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        problem = {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": f"The database is unreachable; retry in {RETRY_AFTER_SECONDS} seconds.",
        }
        response: HttpResponse = JsonResponse(problem, status=503, content_type="application/problem+json")
    else:
        # No request context: the context processors would read the user from the database.
        response = HttpResponse(render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)  # a proxy must not keep serving the outage page once it is over
    return response
