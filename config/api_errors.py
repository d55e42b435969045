"""Every API error is an RFC 9457 problem (``application/problem+json``), never an HTML page.

One shape for clients to parse: ``type``, ``title``, ``status``, ``detail`` and, for invalid
input, ``errors`` (field → messages). DRF's exceptions come through :func:`exception_handler`
(the ``EXCEPTION_HANDLER`` setting); Django-level errors under /api/ (no URL matched, a body
too large) use :func:`problem` directly. Errors nothing handled (500) are left to handler500.
"""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from common.errors import ApplicationError

API_PREFIX = "/api/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
# Headers DRF sets on an error that a client needs: how to log in, when to retry, what is allowed.
KEPT_HEADERS = ("WWW-Authenticate", "Retry-After", "Allow")


def problem(status: int, detail: str, **extra) -> JsonResponse:
    """A problem response; ``extra`` members (e.g. ``errors``) are added as RFC 9457 extensions."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail, **extra}
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: DRF's own decisions (status, headers), written as a problem.

    A plain JsonResponse, not a DRF Response, so content negotiation cannot pick the
    browsable API's HTML renderer for an error.
    """
    if isinstance(exc, ApplicationError) and not isinstance(exc, PermissionDenied):
        # A refusal of the domain (common/errors.py): its own status, whatever the Accept header.
        set_rollback()
        return problem(exc.http_status, exc.message)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(response.data)
        answer = problem(response.status_code, _summary(errors), errors=errors)
    else:
        answer = problem(response.status_code, _text(response.data))
    for header in KEPT_HEADERS:
        if header in response:
            answer[header] = response[header]
    return answer


def _field_errors(data) -> dict:
    # A serializer's errors are already field → messages; a bare list or message is about the whole body.
    if isinstance(data, dict):
        return data
    return {"non_field_errors": data if isinstance(data, list) else [data]}


def _summary(errors: dict) -> str:
    field, messages = next(iter(errors.items()))
    first = messages[0] if isinstance(messages, list) and messages else messages
    return f"Invalid {field}: {first}" + (f" (and {len(errors) - 1} more field(s))" if len(errors) > 1 else "")


def _text(data) -> str:
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return str(data)


def not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    """handler404: API clients parse JSON; an HTML page would only break their error handling."""
    if request.path.startswith(API_PREFIX):
        return problem(404, f"No endpoint or object at {request.path}.")
    return defaults.page_not_found(request, exception, template_name)
