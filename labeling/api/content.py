"""Content and tags over the REST API: list, search, filter, and one item with its history.

``/api/v1/content`` is both the list (people, GET) and streaming ingestion (a source's
token, POST: labeling.api.ingest); each method keeps its own way in.
"""

from django.contrib.auth.models import User
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, viewsets
from rest_framework.permissions import AllowAny

from config.api_pagination import NewestFirst
from config.api_permissions import RolePermission
from config.api_schema import problems
from labeling import selectors
from labeling.api.filters import ContentFilter
from labeling.api.ingest import ContentIngestView, HasSourceToken, SourceTokenAuthentication, SourceTokenThrottle
from labeling.models import Annotation, Content, GoldLabel, ReviewTask, Tag, WrongTagReport

VIEW_CONTENT = "labeling.view_content"
LIST_ERRORS = problems(
    400,
    401,
    403,
    404,
    429,
    e400="an invalid filter (see `errors`), or a NUL in the query string",
    e403="the role lacks the permission",
    e404="a cursor the API did not give",
)
DETAIL_ERRORS = problems(400, 401, 403, 404, 429, e400="a NUL in the query string", e404="no such object")


def slug_field(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="slug", read_only=True, **kwargs)


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["slug", "name", "position", "is_active", "definition", "examples"]


class ContentSerializer(serializers.ModelSerializer):
    current_tag = slug_field(allow_null=True, help_text="the tag shown now; null when none is")
    current_tag_origin = serializers.CharField(help_text="none, model or gold")

    class Meta:
        model = Content
        fields = [
            "id",
            "source",
            "external_id",
            "title",
            "description",
            "created_on",
            "ingested_at",
            "current_tag",
            "current_tag_origin",
            "current_tag_confidence",
            "current_model_version",
            "is_out_of_distribution",
        ]


class GoldLabelBriefSerializer(serializers.ModelSerializer):
    tag = slug_field()
    decided_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = GoldLabel
        fields = ["id", "tag", "provenance", "split", "version", "decided_by", "decided_at"]


class TaskHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewTask
        fields = ["id", "reason", "status", "created_at", "resolved_at"]


class ReportHistorySerializer(serializers.ModelSerializer):
    shown_tag = slug_field(allow_null=True)
    suggested_tag = slug_field(allow_null=True)

    class Meta:
        model = WrongTagReport
        fields = ["id", "status", "shown_tag", "suggested_tag", "comment", "resolution", "created_at", "resolved_at"]


class AnswerHistorySerializer(serializers.ModelSerializer):
    annotator: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(slug_field="username", read_only=True)
    tag = slug_field()
    review_task: serializers.PrimaryKeyRelatedField[ReviewTask] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = Annotation
        fields = ["id", "annotator", "tag", "review_task", "created_at", "undone_at"]


class ContentDetailSerializer(ContentSerializer):
    current_probabilities = serializers.DictField(
        child=serializers.FloatField(), help_text="the shown model's probability per tag; empty when none"
    )
    gold_label = GoldLabelBriefSerializer(read_only=True, allow_null=True, help_text="null until one is decided")
    review_tasks = TaskHistorySerializer(many=True, read_only=True)
    reports = ReportHistorySerializer(many=True, read_only=True)
    answers = AnswerHistorySerializer(
        many=True,
        read_only=True,
        source="visible_answers",
        help_text="annotators' answers, oldest first; without the adjudicate permission, only your own",
    )

    class Meta(ContentSerializer.Meta):
        fields = [
            *ContentSerializer.Meta.fields,
            "current_probabilities",
            "gold_label",
            "review_tasks",
            "reports",
            "answers",
        ]


@extend_schema(tags=["content"])
class ContentCollectionView(ContentIngestView, generics.ListAPIView):
    __doc__ = ContentIngestView.__doc__  # the POST's description; the GET has its own

    serializer_class = ContentSerializer
    pagination_class = NewestFirst
    filter_backends = [DjangoFilterBackend]
    filterset_class = ContentFilter
    required_permissions = {"get": VIEW_CONTENT}

    def initialize_request(self, request, *args, **kwargs):
        # The authenticators are chosen here, by method, before DRF's request exists.
        self._method = request.method
        return super().initialize_request(request, *args, **kwargs)

    def _listing(self) -> bool:
        return self._method != "POST"

    def get_authenticators(self):
        if self._listing():
            return [auth() for auth in generics.ListAPIView.authentication_classes]
        return [SourceTokenAuthentication()]

    def get_permissions(self):
        return [RolePermission()] if self._listing() else [HasSourceToken()]

    def get_throttles(self):
        return (
            [throttle() for throttle in generics.ListAPIView.throttle_classes]
            if self._listing()
            else [SourceTokenThrottle()]
        )

    def get_queryset(self):
        return selectors.content_for_api()

    @extend_schema(
        description="The content, newest first (by id), searched and filtered; annotators, reviewers and admins.",
        responses={200: ContentSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["content"])
class ContentDetailView(generics.RetrieveAPIView):
    """One item: its current tag and where it comes from, its gold label, and its history."""

    serializer_class = ContentDetailSerializer
    permission_classes = [RolePermission]
    required_permissions = {"get": VIEW_CONTENT}

    def get_queryset(self):
        return selectors.content_with_history(user=self.request.user)

    @extend_schema(responses={200: ContentDetailSerializer, **DETAIL_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema_view(
    list=extend_schema(
        responses={200: TagSerializer(many=True), **problems(400, 401, 429, e400="a NUL in the query string")}
    ),
)
@extend_schema(tags=["tags"])
class TagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The tag set, in screen order, retired tags included (``is_active``: false). Open to everyone."""

    serializer_class = TagSerializer
    permission_classes = [AllowAny]
    pagination_class = None

    def get_queryset(self):
        return selectors.tags_all()
