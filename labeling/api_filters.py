"""Query filters of the API's lists (django-filter): what each list can be narrowed by."""

import django_filters
from django import forms
from django.db.models import Q

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


class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number in the database's range (a larger one would be a database error)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=2**31 - 1, **kwargs)


def _text_search(queryset, prefix: str, value: str):
    return queryset.filter(Q(**{f"{prefix}title__icontains": value}) | Q(**{f"{prefix}description__icontains": value}))


class ContentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", max_length=200, help_text="words in the title or description (case-insensitive)"
    )
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


class GoldLabelFilter(django_filters.FilterSet):
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


class ReviewTaskFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    reason = django_filters.ChoiceFilter(choices=ReviewReason.choices)
    tag = django_filters.CharFilter(field_name="predicted_tag", help_text="the model's predicted tag")
    source = django_filters.CharFilter(field_name="content__source")
    content = IdFilter(field_name="content_id", help_text="the content item's id")

    class Meta:
        model = ReviewTask
        fields = ["status", "reason", "tag", "source", "content"]


class ReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    content = IdFilter(field_name="content_id", help_text="the content item's id")

    class Meta:
        model = WrongTagReport
        fields = ["status", "content"]
