"""Gold labels over the REST API: browse (annotators and up), decide or change one (reviewers, provenance ``api``)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from config.api_errors import problem
from config.api_fields import WholeNumberPrimaryKeyField
from config.api_pagination import NewestFirst
from config.api_permissions import RolePermission
from config.api_schema import problems
from labeling import selectors
from labeling.api.content import DETAIL_ERRORS, LIST_ERRORS, ContentSerializer, GoldLabelBriefSerializer
from labeling.api.filters import GoldLabelFilter
from labeling.api.reports import TagSlugField
from labeling.models import Content
from labeling.services.gold_api import GoldLabelExists, gold_label_decide

VIEW_GOLD = "labeling.view_goldlabel"
# Deciding a gold label outside the queue is a reviewer's call, as adjudicating a disagreement is.
DECIDE_GOLD = "labeling.adjudicate"
WRITE_ERRORS = problems(
    400,
    401,
    403,
    404,
    409,
    415,
    429,
    e403="not a reviewer",
    e404="no such gold label",
    e409="the item already has a gold label: change that one (PATCH)",
)


class GoldLabelSerializer(GoldLabelBriefSerializer):
    content = ContentSerializer(read_only=True)

    class Meta(GoldLabelBriefSerializer.Meta):
        fields = [*GoldLabelBriefSerializer.Meta.fields, "content"]


class GoldLabelCreateSerializer(serializers.Serializer):
    content = WholeNumberPrimaryKeyField(queryset=Content.objects.all(), help_text="the content item's id")
    tag = TagSlugField()


class GoldLabelChangeSerializer(serializers.Serializer):
    tag = TagSlugField(required=False, help_text="the new tag; left out, nothing changes")


@extend_schema_view(
    list=extend_schema(responses={200: GoldLabelSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: GoldLabelSerializer, **DETAIL_ERRORS}),
    create=extend_schema(
        request=GoldLabelCreateSerializer,
        responses={201: OpenApiResponse(GoldLabelSerializer, description="the new gold label"), **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        request=GoldLabelChangeSerializer,
        responses={200: GoldLabelSerializer, **WRITE_ERRORS},
    ),
)
@extend_schema(tags=["gold labels"])
class GoldLabelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Gold labels, newest first. A label decided here has provenance ``api`` and goes to the train split;
    the item's open review tasks that nobody has touched are withdrawn (its reports stay for the queue)."""

    serializer_class = GoldLabelSerializer
    pagination_class = NewestFirst
    filter_backends = [DjangoFilterBackend]
    filterset_class = GoldLabelFilter
    permission_classes = [RolePermission]
    required_permissions = {
        "list": VIEW_GOLD,
        "retrieve": VIEW_GOLD,
        "create": DECIDE_GOLD,
        "partial_update": DECIDE_GOLD,
    }
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_converter = "int"

    def get_queryset(self):
        return selectors.gold_labels_for_api()

    def create(self, request):
        body = GoldLabelCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            label = gold_label_decide(
                content_id=body.validated_data["content"].pk,
                tag=body.validated_data["tag"],
                user=request.user,
                create=True,
            )
        except GoldLabelExists as exists:
            return problem(
                status.HTTP_409_CONFLICT,
                f"Content {exists.label.content_id} already has gold label {exists.label.pk}: "
                f"change it with PATCH /api/v1/gold-labels/{exists.label.pk}.",
            )
        return Response(self._answer(label), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        label = self.get_object()
        body = GoldLabelChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "tag" in body.validated_data:
            label = gold_label_decide(
                content_id=label.content_id, tag=body.validated_data["tag"], user=request.user, create=False
            )
        return Response(self._answer(label))

    def _answer(self, label) -> dict:
        return GoldLabelSerializer(self.get_queryset().get(pk=label.pk), context=self.get_serializer_context()).data
