"""Online predictions over HTTP."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from common.throttles import WindowRateThrottle
from config.api_fields import CompiledRegexValidator, StrictCharField
from config.api_responses import api_answer
from config.api_schema import problems
from config.api_serializers import FreshFieldsSerializer
from labeling.models import Content
from predictions.services import OnlinePrediction, predict_text


class ContentIdField(serializers.PrimaryKeyRelatedField):
    """A content item's id as a whole number: the database would read 1.5 as item 1."""

    def to_internal_value(self, data):
        whole = isinstance(data, int) and not isinstance(data, bool)
        if not (whole or (isinstance(data, str) and data.isascii() and data.isdigit())):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class PredictRequestSerializer(FreshFieldsSerializer):
    # The pattern tells the schema what trimming means: whitespace alone is blank.
    title = StrictCharField(max_length=1000, trim_whitespace=True, validators=[CompiledRegexValidator(r"\S")])
    description = StrictCharField(max_length=20000, allow_blank=True, required=False, default="")
    content_id = ContentIdField(
        queryset=Content.objects.all(),
        required=False,
        default=None,
        source="content",
        help_text="the stored item this text belongs to, if any: a canary then serves it with the same model as its page",
    )


class PredictResponseSerializer(serializers.Serializer):
    tag = serializers.CharField()
    probabilities = serializers.DictField(child=serializers.FloatField())
    confidence = serializers.FloatField()
    model_version = serializers.IntegerField()
    needs_review = serializers.BooleanField()
    canary = serializers.BooleanField(help_text="true when a canary's candidate, not the active model, answered")


class PredictView(APIView):
    """Tag one item with the active model (or, for a running canary's share of items, its candidate).

    Public on purpose: it reveals no stored data, only what the public content pages
    show anyway; a per-client rate limit keeps it from being used as free compute.
    """

    permission_classes = [AllowAny]
    throttle_classes = [WindowRateThrottle]
    throttle_scope = "predict"

    @extend_schema(
        request=PredictRequestSerializer,
        responses={
            200: PredictResponseSerializer,
            **problems(400, 403, 415, 429, 503, e503="no model is active, or its artifact is missing or altered"),
        },
    )
    def post(self, request):
        body = PredictRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # NoActiveModel and ModelUnavailable are 503s, written as problem+json by config/api_errors.py.
        result = predict_text(**body.validated_data)
        return api_answer(request, _answer(result))


def _answer(result: OnlinePrediction) -> dict:
    # The fields already have the schema's types: no serializer copies them, nor dataclasses.asdict,
    # which deep-copies (the schema still documents PredictResponseSerializer; tests/test_schema.py
    # checks answers against it).
    return {
        "tag": result.tag,
        "probabilities": result.probabilities,
        "confidence": result.confidence,
        "model_version": result.model_version,
        "needs_review": result.needs_review,
        "canary": result.canary,
    }
