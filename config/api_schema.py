"""The API's error responses as the OpenAPI schema declares them (drf-spectacular).

Each view lists the statuses it can really answer with :func:`problems`; the bodies are
what config.api_errors writes, under the problem+json media type it sends.
"""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from config.api_errors import PROBLEM_CONTENT_TYPE

# Why each status happens, said once: views pick the statuses and may say more.
REASONS = {
    400: "invalid input: a field (see `errors`), malformed or too deeply nested JSON, or a NUL in the query string",
    401: "no credentials where the operation needs them, or unknown, revoked or refused ones (`WWW-Authenticate` names the schemes)",
    403: "not allowed for this account, or no CSRF token with a session login",
    404: "no such object",
    409: "the object's state does not allow it now (see `detail`)",
    413: "request body too large",
    415: "unsupported request media type",
    429: "rate limit or login lockout; `Retry-After` says when to try again",
    501: "this installation lacks an optional extra the request needs (`detail` names it)",
    503: "the service cannot answer now",
}


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem."""

    type = serializers.CharField(help_text="always about:blank: the status says what kind of error it is")
    title = serializers.CharField(help_text="the HTTP status phrase")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="what went wrong with this request, for people")


class FieldErrorsProblemSerializer(ProblemSerializer):
    # Added here, not declared on the class: a class attribute "errors" would shadow (for readers
    # and type checkers; DRF's metaclass pops it) Serializer.errors, the validation errors.
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["errors"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="each invalid field (or `non_field_errors`) with its messages; absent when the body was unreadable",
        )
        return fields


def problems(*statuses: int, serializer=FieldErrorsProblemSerializer, **reasons: str) -> dict:
    """``extend_schema(responses=...)`` entries for these error statuses, as problem+json.

    ``reasons`` ("e400"=...) replace the general reason of a status for one operation.
    """
    serializers_by_status = {status: (serializer if status == 400 else ProblemSerializer) for status in statuses}
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(body, description=reasons.get(f"e{status}", REASONS[status]))
        for status, body in serializers_by_status.items()
    }
