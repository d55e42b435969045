"""Cursor pagination for the API's lists: stable pages while rows are added, no counting of big tables."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

MAX_PAGE_SIZE = 500


class NewestFirst(CursorPagination):
    """Newest first by id (unique and never changes), 50 per page unless ``page_size`` says otherwise.

    ``next`` and ``previous`` are whole URLs; a cursor that was not given by the API is a 404.
    ``page_size`` is a whole number from 1 (more than the maximum gives the maximum); anything
    else is a 400: DRF would ignore it and answer the default, which hides a client's bug.
    """

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        given = request.query_params.get("page_size")
        if given is None:
            return self.page_size
        if not (given.isascii() and given.isdigit()) or int(given) < 1:
            raise ValidationError({"page_size": [f"Give a whole number from 1 to {MAX_PAGE_SIZE}."]})
        return min(int(given), MAX_PAGE_SIZE)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == "page_size":
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = f"results per page: 50 unless given, at most {MAX_PAGE_SIZE}"
        return parameters
