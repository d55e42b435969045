"""A URL under /api/ that matches no endpoint is answered in JSON, like the API's other errors."""
from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    """handler404: API clients parse JSON; an HTML page would only break their error handling."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": f"No endpoint or object at {request.path}."}, status=404)
    return defaults.page_not_found(request, exception, template_name)
