"""Model versions over the REST API: list, one version with its metrics and audit trail; retrain,
promote and roll back for admins, through the same services, gates and audit trail as /models/."""

from django.contrib.auth.models import User
from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api_errors import problem
from config.api_fields import StrictCharField
from config.api_pagination import NewestFirst
from config.api_permissions import RolePermission
from config.api_schema import ProblemSerializer, problems
from ml.catalogue import ALGORITHM_NAMES, NEEDS_EMBEDDINGS, embeddings_available
from predictions.models import ModelEvent, ModelVersion
from predictions.selectors import model_versions as selectors
from predictions.services import (
    PromotionBlocked,
    PromotionError,
    model_version_promote,
    model_version_request,
    model_version_rollback,
    retrain_waiting_for_broker,
)

VIEW = "predictions.view_modelversion"
TRAIN = "predictions.train_model"
PROMOTE = "predictions.promote_model"
REASON_LIMIT = 2000  # as the pages' forms
READ_ERRORS = problems(
    400, 401, 403, 404, 429, e400="a NUL in the query string", e404="no such version, or a cursor the API did not give"
)


class NewestVersionFirst(NewestFirst):
    ordering = "-number"


class ModelVersionSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    weighted_f1 = serializers.FloatField(
        read_only=True, allow_null=True, help_text="weighted F1 on the holdout at training; null until trained"
    )

    class Meta:
        model = ModelVersion
        fields = [
            "number",
            "algorithm",
            "status",
            "progress",
            "stage",
            "error",
            "notes",
            "weighted_f1",
            "review_threshold",
            "training_label_count",
            "new_label_count",
            "holdout_count",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "promoted_at",
        ]


class ModelEventSerializer(serializers.ModelSerializer):
    actor: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    previous_version: serializers.SlugRelatedField[ModelVersion] = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True, help_text="the version active before"
    )
    gate_failures = serializers.ListField(child=serializers.CharField(), help_text="gates an override set aside")
    details = serializers.JSONField(
        help_text="a threshold change's evidence (with its source); an emerging topic turned into a tag: the tag, "
        "the topic's top_terms, its items and how many went to_review; empty otherwise"
    )

    class Meta:
        model = ModelEvent
        fields = ["action", "previous_version", "actor", "reason", "gate_failures", "source", "details", "created_at"]


class ModelVersionDetailSerializer(ModelVersionSerializer):
    params = serializers.JSONField(help_text="the algorithm's parameters")
    metrics = serializers.JSONField(
        help_text="on the holdout at training: overall, per class with bootstrap intervals, slices, calibration, "
        "confusion matrix, automation; empty until trained"
    )
    cv_metrics = serializers.JSONField(help_text="cross-validation on the train split (mean and spread of F1)")
    events = ModelEventSerializer(many=True, read_only=True, help_text="the audit trail, newest first")

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "params", "metrics", "cv_metrics", "events"]


class RetrainRequestSerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(choices=sorted(ALGORITHM_NAMES), required=False)
    notes = StrictCharField(required=False, allow_blank=True, default="", max_length=REASON_LIMIT)

    def validate_algorithm(self, algorithm: str) -> str:
        # Checked here rather than failing on the worker a moment later (as the page's form does).
        if algorithm in NEEDS_EMBEDDINGS and not embeddings_available():
            raise serializers.ValidationError(
                f"{algorithm} needs the optional embedding packages (requirements-embeddings.txt)."
            )
        return algorithm


class RetrainSerializer(ModelVersionSerializer):
    waiting_for_broker = serializers.SerializerMethodField(
        help_text="true when the task queue was unreachable: the worker starts it once the queue is back"
    )

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "waiting_for_broker"]

    def get_waiting_for_broker(self, version) -> bool:
        return retrain_waiting_for_broker(model_version=version)


class PromoteRequestSerializer(serializers.Serializer):
    override_reason = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=REASON_LIMIT,
        help_text="only needed when a gate fails; recorded in the audit trail",
    )


class RollbackRequestSerializer(serializers.Serializer):
    # The pattern tells the schema what trimming means: whitespace alone is blank.
    reason = StrictCharField(
        max_length=REASON_LIMIT, validators=[RegexValidator(r"\S")], help_text="recorded in the audit trail"
    )
    to = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=2**31 - 1,
        help_text="the version you expect to come back; if another change moved the target since, nothing happens",
    )


class GateProblemSerializer(ProblemSerializer):
    failures = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="the gates the candidate fails, when that is why"
    )


ACTION_ERRORS = {
    **problems(400, 401, 403, 404, 415, 429, e403="not an admin", e404="no such version"),
    (409, "application/problem+json"): OpenApiResponse(
        GateProblemSerializer,
        description="not done: a gate fails (see `failures`; give an `override_reason`), the version is not a "
        "candidate, or nothing to roll back to",
    ),
}


@extend_schema_view(
    list=extend_schema(responses={200: ModelVersionSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(responses={200: ModelVersionDetailSerializer, **READ_ERRORS}),
    create=extend_schema(
        summary="Retrain",
        request=RetrainRequestSerializer,
        responses={
            202: OpenApiResponse(RetrainSerializer, description="queued: a worker trains it"),
            **problems(400, 401, 403, 415, 429, e403="not an admin"),
        },
    ),
    promote=extend_schema(
        request=PromoteRequestSerializer,
        responses={
            200: OpenApiResponse(ModelVersionSerializer, description="active; content is re-predicted"),
            **ACTION_ERRORS,
        },
    ),
    rollback=extend_schema(
        request=RollbackRequestSerializer,
        responses={
            200: OpenApiResponse(ModelVersionSerializer, description="the version active again"),
            **ACTION_ERRORS,
        },
    ),
)
@extend_schema(tags=["model versions"])
class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Model versions, newest first (admins). ``POST`` queues a retrain; ``promote`` and ``rollback`` change
    the active model behind the same gates as /models/, and each change is in the version's audit trail."""

    serializer_class = ModelVersionSerializer
    pagination_class = NewestVersionFirst
    permission_classes = [RolePermission]
    required_permissions = {"list": VIEW, "retrieve": VIEW, "create": TRAIN, "promote": PROMOTE, "rollback": PROMOTE}
    lookup_field = "number"
    lookup_value_converter = "int"

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.model_version_with_events()
        return selectors.model_versions_for_api()

    def get_serializer_class(self):
        return ModelVersionDetailSerializer if self.action == "retrieve" else ModelVersionSerializer

    def create(self, request):
        body = RetrainRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = model_version_request(
            algorithm=body.validated_data.get("algorithm"),
            notes=body.validated_data["notes"],
            requested_by=request.user,
        )
        return Response(RetrainSerializer(version).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def promote(self, request, number=None):
        version = self.get_object()
        body = PromoteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            version = model_version_promote(
                model_version=version, promoted_by=request.user, override_reason=body.validated_data["override_reason"]
            )
        except PromotionBlocked as blocked:
            return problem(
                status.HTTP_409_CONFLICT,
                f"Not promoted: {'; '.join(blocked.failures)}. To promote anyway, give an override_reason.",
                failures=blocked.failures,
            )
        except PromotionError as exc:
            return problem(status.HTTP_409_CONFLICT, f"Not promoted: {exc}.")
        return Response(ModelVersionSerializer(version).data)

    @action(detail=False, methods=["post"])
    def rollback(self, request):
        body = RollbackRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            version = model_version_rollback(
                rolled_back_by=request.user,
                reason=body.validated_data["reason"],
                expected_number=body.validated_data["to"],
            )
        except PromotionError as exc:
            return problem(status.HTTP_409_CONFLICT, f"Not rolled back: {exc}.")
        return Response(ModelVersionSerializer(version).data)
