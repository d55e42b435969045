"""Wrong-tag reports over HTTP, open to anonymous end users."""

from django.db import DatabaseError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_fields import StrictCharField
from config.api_schema import problems
from labeling.models import Content, Tag, WrongTagReport
from labeling.ratelimit import report_rate_wait
from labeling.services import client_address, report_create
from labeling.services.reports import MAX_IDEMPOTENCY_KEY_LENGTH, suggestion_check

IDEMPOTENCY_HEADER = "Idempotency-Key"


class TagSlugField(serializers.SlugRelatedField):
    """An active tag by its slug; a wrong one is answered with the tags there are."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=_active_tags(), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(f"Give one tag as a string: {self._choices()}.", code="invalid")
        # PostgreSQL refuses NUL in text, so the lookup would fail in the database (a 500).
        if "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.", code="null_characters_not_allowed")
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            raise serializers.ValidationError(
                f"Unknown tag {data!r}: {self._choices()}.", code="does_not_exist"
            ) from None

    def _choices(self) -> str:
        return "one of " + ", ".join(_active_tags().order_by("slug").values_list("slug", flat=True))


def _active_tags() -> QuerySet[Tag]:
    """What a TagSlugField accepts (a fresh queryset each call, as the field's own get_queryset gives)."""
    return Tag.objects.filter(is_active=True)


def active_tag_slugs() -> list[str]:
    """The active tags' slugs, for the schema (one enum component, ``TagSlugEnum``, for every field of them)."""
    try:
        return list(Tag.objects.filter(is_active=True).order_by("slug").values_list("slug", flat=True))
    except DatabaseError:  # `manage.py spectacular` on a machine without the database: no list to give
        return []


class TagSlugFieldSchema(OpenApiSerializerFieldExtension):
    """The schema lists the active tags, read when it is generated: the tag set lives in the database."""

    target_class = TagSlugField

    def map_serializer_field(self, auto_schema, direction):
        schema = {
            "type": "string",
            "nullable": self.target.allow_null,
            "description": "an active tag's slug; it may not be the tag the item shows now",
        }
        slugs = active_tag_slugs()
        if slugs:
            schema["enum"] = slugs
        return schema


class ReportRequestSerializer(serializers.Serializer):
    suggested_tag = TagSlugField(required=False, allow_null=True)
    comment = StrictCharField(max_length=2000, allow_blank=True, required=False, default="")

    def validate_suggested_tag(self, suggested_tag):
        suggestion_check(content=self.context["content"], suggested_tag=suggested_tag)  # a 400 naming the field
        return suggested_tag


class ReportSerializer(serializers.ModelSerializer):
    content = serializers.IntegerField(source="content_id")
    shown_tag: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True, help_text="null when the item showed no tag"
    )
    suggested_tag: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True, help_text="null when the reporter suggested none"
    )
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = WrongTagReport
        fields = [
            "id",
            "content",
            "shown_tag",
            "suggested_tag",
            "comment",
            "status",
            "resolution",
            "created_at",
            "status_url",
        ]

    def get_status_url(self, report) -> str:
        path = reverse("labeling:report-status", args=[report.token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ContentReportsView(APIView):
    """Report that a content item's tag is wrong. No account needed; one open report per reporter."""

    permission_classes = [AllowAny]

    @extend_schema(
        request=ReportRequestSerializer,
        responses={
            201: OpenApiResponse(
                ReportSerializer, description="a new report, or a retry with the same Idempotency-Key"
            ),
            200: OpenApiResponse(ReportSerializer, description="this reporter's open report on the item, updated"),
            **problems(400, 401, 403, 404, 415, 429, e404="no content item with this id"),
        },
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                description="Any string up to 255 characters, new for each report: a request repeated with it "
                "(a retry after a timeout) gets the first one's report and 201, and changes nothing.",
            )
        ],
    )
    def post(self, request, content_id: int):
        content = get_object_or_404(Content, pk=content_id)
        body = ReportRequestSerializer(data=request.data, context={"content": content})
        body.is_valid(raise_exception=True)
        idempotency_key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValidationError({IDEMPOTENCY_HEADER: f"At most {MAX_IDEMPOTENCY_KEY_LENGTH} characters."})
        # The same budget as the report form, one count per reporter across both.
        wait = report_rate_wait(request)
        if wait is not None:
            raise Throttled(wait=wait)
        report, created = report_create(
            content=content,
            reporter=request.user if request.user.is_authenticated else None,
            reporter_address=client_address(request),
            suggested_tag=body.validated_data.get("suggested_tag"),
            comment=body.validated_data.get("comment", ""),
            idempotency_key=idempotency_key,
        )
        data = ReportSerializer(report, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
