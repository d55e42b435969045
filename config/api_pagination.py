"""Cursor pagination for the API's lists: stable pages while rows are added, no counting of big tables."""

from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    """Newest first by id (unique and never changes), ``page_size`` per page (at most 500).

    ``next`` and ``previous`` are whole URLs; a cursor that was not given by the API is a 404.
    """

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
