"""Wrong-tag reports over the REST API, for the people who settle them (annotators and up).

Reporters are not named: a report says only whether its reporter had an account. The
status link's token stays the reporter's.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from config.api_pagination import NewestFirst
from config.api_permissions import RolePermission
from labeling import selectors
from labeling.api.content import DETAIL_ERRORS, LIST_ERRORS, ReportHistorySerializer
from labeling.api.filters import ReportFilter

SETTLE_REPORTS = "labeling.review_content"


class ReportListSerializer(ReportHistorySerializer):
    content = serializers.IntegerField(source="content_id")
    shown_model_version = serializers.IntegerField(allow_null=True)
    reporter_has_account = serializers.SerializerMethodField()
    review_task = serializers.IntegerField(source="review_task_id", allow_null=True)

    class Meta(ReportHistorySerializer.Meta):
        fields = [
            "id",
            "content",
            "status",
            "shown_tag",
            "shown_model_version",
            "suggested_tag",
            "comment",
            "resolution",
            "reporter_has_account",
            "review_task",
            "created_at",
            "resolved_at",
        ]

    def get_reporter_has_account(self, report) -> bool:
        return report.reporter_id is not None


@extend_schema_view(
    list=extend_schema(responses={200: ReportListSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: ReportListSerializer, **DETAIL_ERRORS}),
)
@extend_schema(tags=["reports"])
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Wrong-tag reports, newest first; they are settled by answering their review task."""

    serializer_class = ReportListSerializer
    pagination_class = NewestFirst
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReportFilter
    permission_classes = [RolePermission]
    required_permissions = {"list": SETTLE_REPORTS, "retrieve": SETTLE_REPORTS}
    lookup_value_converter = "int"

    def get_queryset(self):
        return selectors.reports_for_api()
