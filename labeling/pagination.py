"""A paginator whose count stops at a cap, for searches that may match most of a large table."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

SEARCH_COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows (``SELECT COUNT(*) FROM (... LIMIT cap + 1)``); ``capped`` says it stopped."""

    cap = SEARCH_COUNT_CAP

    @cached_property
    def _counted(self) -> int:
        queryset: QuerySet = self.object_list  # type: ignore[assignment]  # always a queryset here
        return queryset.values("pk")[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap
