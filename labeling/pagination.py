"""A paginator whose count stops at a cap, for searches that may match most of a large table."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

SEARCH_COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows (``SELECT COUNT(*) FROM (... LIMIT cap + 1)``); ``capped`` says it stopped.

    ``counted``: rows as many as ``object_list``'s, cheaper to count (e.g. a narrow table's), counted instead.
    """

    cap = SEARCH_COUNT_CAP

    def __init__(self, object_list, per_page, *args, counted: QuerySet | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.counted = counted

    @cached_property
    def _counted(self) -> int:
        queryset: QuerySet = self.object_list if self.counted is None else self.counted  # type: ignore[assignment]
        return queryset.values("pk")[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap
