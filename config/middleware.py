"""A request body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 with a JSON reason, never a 400 or 500."""
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults


def _too_large() -> JsonResponse:
    return JsonResponse(
        {"detail": f"request body larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"}, status=413
    )


class RequestTooBigMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return _too_large()
        return None


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    """handler400: Django turns RequestDataTooBig raised outside a view (e.g. CSRF reading a form) into 400."""
    if isinstance(exception, RequestDataTooBig):
        return _too_large()
    return defaults.bad_request(request, exception, template_name)
