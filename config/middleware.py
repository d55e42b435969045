"""Requests no view can serve, refused early with a 4xx instead of failing later with a 500.

A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 problem (never a 400 or 500); a NUL
character in the query string is a 400. And the flash messages of pages, which API calls skip.
"""

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.views import defaults

from config.api_errors import API_PREFIX, problem

NUL_IN_QUERY = "The query string contains a NUL character (%00), which no stored value can hold."


class NulInQuery(SuspiciousOperation):
    """Django answers a SuspiciousOperation with handler400 (below) and logs it to django.security."""


def _too_large():
    return problem(413, f"request body larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")


class RejectNulInQueryMiddleware:
    """PostgreSQL refuses NUL in text: a filter or search carrying one fails in the database.

    One rule for every page (admin list filters and search, the site's filters, the API)
    instead of a check in each: no query parameter, name or value, may hold a NUL.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            raise NulInQuery(NUL_IN_QUERY)
        return self.get_response(request)


class RequestTooBigMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return _too_large()
        return None


class PageMessageMiddleware(MessageMiddleware):
    """Django's flash messages, for pages only: an API call (/api/) neither shows nor leaves any.

    Building the message storage (a cookie signer, the session's) for every API call was a few
    percent of a predict request. Without it an API view that tried to flash a message would
    fail loudly (MessageFailure), never lose one silently; none does.
    """

    def process_request(self, request):
        if not request.path.startswith(API_PREFIX):
            super().process_request(request)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    """handler400: Django turns RequestDataTooBig raised outside a view (e.g. CSRF reading a form) into 400."""
    if isinstance(exception, RequestDataTooBig):
        return _too_large()
    if request.path.startswith(API_PREFIX):
        detail = str(exception) if isinstance(exception, NulInQuery) else "Bad request."
        return problem(400, detail)
    return defaults.bad_request(request, exception, template_name)
