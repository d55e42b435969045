"""Online predictions over HTTP."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from common.throttles import WindowRateThrottle
from config.api_fields import CompiledRegexValidator, StrictCharField, SurrogateCharactersSearch
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


TITLE_MAX_LENGTH, DESCRIPTION_MAX_LENGTH = 1000, 20000
NOT_BLANK = CompiledRegexValidator(r"\S")


class PredictRequestSerializer(FreshFieldsSerializer):
    # The pattern tells the schema what trimming means: whitespace alone is blank.
    title = StrictCharField(max_length=TITLE_MAX_LENGTH, trim_whitespace=True, validators=[NOT_BLANK])
    description = StrictCharField(max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False, default="")
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
            **problems(400, 401, 403, 415, 429, 503, e503="no model is active, or its artifact is missing or altered"),
        },
    )
    def post(self, request):
        validated = plain_body(request.data)
        if validated is None:  # anything but the common case, and every error, is the serializer's
            body = PredictRequestSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            validated = body.validated_data
        # NoActiveModel and ModelUnavailable are 503s, written as problem+json by config/api_errors.py.
        result = predict_text(**validated)
        return api_answer(request, _answer(result))


def plain_body(data: object) -> dict | None:
    """The serializer's validated data for the common body, a title and maybe a description; None: ask it.

    Building the serializer and running DRF's validation chain was a tenth of a predict request's CPU.
    Strings only, and only values every check of the fields passes (the same trimming, lengths, no NUL or
    surrogate character, a title not blank); whatever the fields might refuse, and any content id, goes
    to the serializer, so the answers and errors are its own (tests/test_lean_request.py compares them).
    """
    if type(data) is not dict or "content_id" in data:
        return None
    title, description = data.get("title"), data.get("description", "")
    if type(title) is not str or type(description) is not str:
        return None
    title, description = title.strip(), description.strip()
    if not 0 < len(title) <= TITLE_MAX_LENGTH or len(description) > DESCRIPTION_MAX_LENGTH:
        return None
    if "\x00" in title or "\x00" in description or not NOT_BLANK.pattern.search(title):
        return None
    if SurrogateCharactersSearch.found(title) or SurrogateCharactersSearch.found(description):
        return None
    return {"title": title, "description": description, "content": None}


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
