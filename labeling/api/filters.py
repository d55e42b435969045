"""Query filters of the API's lists (django-filter): what each list can be narrowed by."""

import django_filters
from django import forms
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from labeling.models import (
    Content,
    GoldLabel,
    Provenance,
    ReportStatus,
    ReviewReason,
    ReviewStatus,
    ReviewTask,
    Split,
    TagOrigin,
    WrongTagReport,
)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An object's id, a whole number (one no object can have matches nothing)."""

    field_class = forms.IntegerField


class StrictFilterSet(django_filters.FilterSet):
    """An empty value is "no filter" only for text: for a date, a number or a choice it is a 400, as the schema says."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, query_filter in self.filters.items():
            if not isinstance(query_filter, django_filters.CharFilter) and self.data.get(name) == "":
                self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        return valid


def _text_search(queryset, prefix: str, value: str):
    return queryset.filter(Q(**{f"{prefix}title__icontains": value}) | Q(**{f"{prefix}description__icontains": value}))


class ContentFilter(StrictFilterSet):
    q = django_filters.CharFilter(
        method="search", max_length=200, help_text="words in the title or description (case-insensitive)"
    )
    # On the content row itself: the API's pages are by id, an order ContentTagOrder's index does not serve (walking
    # the ids and reading each row's tag is what answers a page, as before).
    tag = django_filters.CharFilter(field_name="current_tag__slug", help_text="the tag shown now (a slug)")
    source = django_filters.CharFilter(field_name="source")
    origin = django_filters.ChoiceFilter(
        field_name="current_tag_origin", choices=TagOrigin.choices, help_text="where the shown tag comes from"
    )
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_on", lookup_expr="gte", help_text="created on or after this time"
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_on", lookup_expr="lt", help_text="created before this time"
    )

    class Meta:
        model = Content
        fields = ["q", "tag", "source", "origin", "created_after", "created_before"]

    def search(self, queryset, name, value):
        return _text_search(queryset, "", value)


class GoldLabelFilter(StrictFilterSet):
    q = django_filters.CharFilter(method="search", max_length=200, help_text="words in the item's title or description")
    tag = django_filters.CharFilter(field_name="tag__slug")
    provenance = django_filters.ChoiceFilter(choices=Provenance.choices)
    split = django_filters.ChoiceFilter(choices=Split.choices)
    source = django_filters.CharFilter(field_name="content__source")

    class Meta:
        model = GoldLabel
        fields = ["q", "tag", "provenance", "split", "source"]

    def search(self, queryset, name, value):
        return _text_search(queryset, "content__", value)


class ReviewTaskFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    reason = django_filters.ChoiceFilter(choices=ReviewReason.choices)
    tag = django_filters.CharFilter(field_name="predicted_tag", help_text="the model's predicted tag")
    source = django_filters.CharFilter(field_name="content__source")
    content = IdFilter(field_name="content_id", help_text="the content item's id")

    class Meta:
        model = ReviewTask
        fields = ["status", "reason", "tag", "source", "content"]


class ReportFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    content = IdFilter(field_name="content_id", help_text="the content item's id")

    class Meta:
        model = WrongTagReport
        fields = ["status", "content"]
