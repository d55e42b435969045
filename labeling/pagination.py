"""A paginator whose count stops at a cap, for searches that may match most of a large table."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

SEARCH_COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows (``SELECT COUNT(*) FROM (... LIMIT cap + 1)``); ``capped`` says it stopped.

    ``narrow``: a queryset of narrow rows, one per row of ``object_list``, in its order, with the same primary keys
    (e.g. labeling.models.ContentTagOrder for a tag): counted instead, and a page's keys are found in it, so only that
    page's wide rows are read (page 1,000 reads 50 of them, not 50,000).
    """

    cap = SEARCH_COUNT_CAP

    def __init__(self, object_list, per_page, *args, narrow: QuerySet | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.narrow = narrow

    @cached_property
    def _counted(self) -> int:
        queryset: QuerySet = self.object_list if self.narrow is None else self.narrow  # type: ignore[assignment]
        return queryset.values("pk")[: self.cap + 1].count()

    def page(self, number):
        if self.narrow is None:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self.narrow.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=keys), number, self)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap
