"""Streaming ingestion over HTTP: ``POST /api/v1/content`` with a per-source API key."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from config.api_errors import problem
from config.api_schema import ProblemSerializer, problems
from labeling.models import SourceToken
from labeling.parsing import ContentRow, RecordError, validate_record
from labeling.services import content_ingest, source_token_authenticate
from labeling.services.api_tokens import KEY_PREFIX as PERSONAL_KEY_PREFIX
from labeling.services.tokens import KEY_PREFIX

KEYWORD = "Token"
# People send their own keys as "Bearer" (labeling.api.auth) and may send a source key the same
# way: a "Bearer tl_..." key is taken too, rather than answered "no credentials were provided".
BEARER = b"bearer"
# A person's key sent here is credentials of the wrong kind: say so, not "no credentials were provided".
PERSONAL_KEY_REFUSED = (
    "A personal API token (tlu_...) cannot send content: ingestion takes a source's key (tl_...), "
    "which an admin makes in /admin/ under Source tokens."
)
# Fields an item may carry. Tags are not taken from a stream: gold labels come from
# people (review) or from an admin's file import.
ITEM_FIELDS = {"id", "title", "description", "created_on"}


class SourceClient:
    """The "user" of a request made with a source token: a machine, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, token: SourceToken):
        self.token = token
        self.source = token.source

    def __str__(self):
        return f"source {self.source} ({self.token.key_prefix}…)"

    def has_perm(self, perm, obj=None):
        return False


class SourceTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>`` (or ``Bearer <key>``); unknown or revoked keys get 401."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts:
            return None
        if len(parts) == 2 and parts[1].startswith(PERSONAL_KEY_PREFIX.encode()):
            raise AuthenticationFailed(PERSONAL_KEY_REFUSED)
        if parts[0].lower() == BEARER:
            # A person's key (tlu_...) or anything else is not a source's.
            if len(parts) != 2 or not parts[1].startswith(KEY_PREFIX.encode()):
                return None
        elif parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        token = source_token_authenticate(key=key)
        if token is None:
            raise AuthenticationFailed("Invalid or revoked token.")
        return SourceClient(token), token

    def authenticate_header(self, request):
        return KEYWORD


class SourceTokenScheme(OpenApiAuthenticationExtension):
    target_class = SourceTokenAuthentication
    name = "sourceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A per-source key made in the admin: `Token <key>`",
        }


class HasSourceToken(BasePermission):
    message = "A source API token is required: Authorization: Token <key>."

    def has_permission(self, request, view):
        return isinstance(request.auth, SourceToken)


class SourceTokenThrottle(SimpleRateThrottle):
    scope = "ingest"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, SourceToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}


# The import's rules (labeling.parsing.validate_record) read numbers as text, and null as empty.
_TEXT_OR_NUMBER = {"oneOf": [{"type": "string"}, {"type": "number"}], "nullable": True}
_NOT_BLANK = {"oneOf": [{"type": "string", "pattern": r"\S"}, {"type": "number"}]}


@extend_schema_field(_NOT_BLANK)
class _NotBlankField(serializers.Field):
    """Documentation only: the view validates items with the import's rules."""


@extend_schema_field(_TEXT_OR_NUMBER)
class _TextOrNumberField(serializers.Field):
    """Documentation only: the view validates items with the import's rules."""


class IngestItemSerializer(serializers.Serializer):
    """One item; a batch is a JSON list of these. Field names are read case-insensitively."""

    id = _NotBlankField(help_text="the item's id in its source; (source, id) is unique; at most 200 characters")
    title = _NotBlankField(help_text="at most 1000 characters once runs of whitespace are one space")
    description = _TextOrNumberField(required=False)
    created_on = _TextOrNumberField(required=False, help_text="a date or date-time, e.g. 2020-02-20 06:43:18")


class _IngestBatchSerializer(serializers.ListSerializer):
    """A batch: a JSON list of items."""


class IngestResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "updated", "duplicate"])


class IngestResponseSerializer(serializers.Serializer):
    # A declared field leaves the class (DRF's SerializerMetaclass), so it never shadows the
    # serializer's own attribute of that name (Field.source here) that the stubs see.
    source = serializers.CharField()  # type: ignore[assignment]
    items = IngestResultSerializer(many=True)


class ItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="the item's position in the batch (0 for a single item)")
    field = serializers.CharField(allow_null=True, help_text="null when the item is not an object")
    message = serializers.CharField()


class IngestProblemSerializer(ProblemSerializer):
    errors = ItemErrorSerializer(  # type: ignore[assignment]  # a declared field (see IngestResponseSerializer)
        many=True,
        required=False,
        help_text="every invalid item; absent when the body was unreadable or not an object or list",
    )


class ContentIngestView(APIView):
    """Send one item or a batch (a JSON list) of content for the token's source.

    All or nothing: when any item is invalid, nothing is stored and the 400 answer lists
    every error with the item's ``index`` and ``field``. Each stored item is ``created``,
    ``updated`` (same id, new text or date) or a ``duplicate`` (same id unchanged, or the
    same text already stored under any source: the answer gives the stored item's id).
    A batch has at most ``TAGLOOP_INGEST_MAX_ITEMS`` items (413 beyond), a body at most
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (413). Rate-limited per token (429).
    """

    authentication_classes = [SourceTokenAuthentication]
    permission_classes = [HasSourceToken]
    throttle_classes = [SourceTokenThrottle]

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="IngestRequest",
            # A ListSerializer, which drf-spectacular documents (its annotation says Serializer).
            serializers=[
                IngestItemSerializer,
                _IngestBatchSerializer(child=IngestItemSerializer(), max_length=500),  # type: ignore[list-item]
            ],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: IngestResponseSerializer,
            **problems(
                400,
                401,
                413,
                415,
                429,
                serializer=IngestProblemSerializer,
                e401="no `Authorization: Token <key>`, or the key is unknown or revoked",
                e413="a body or batch over the limits",
            ),
        },
        examples=[
            OpenApiExample(
                "one item", value={"id": "a-1", "title": "YOLO for drones", "description": "..."}, request_only=True
            )
        ],
    )
    def post(self, request):
        try:
            # Read through Django's request so DATA_UPLOAD_MAX_MEMORY_SIZE applies
            # (DRF's parsers read the stream directly and would not check it).
            request.body  # noqa: B018
        except RequestDataTooBig:
            return _too_large(f"request body larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
        data = request.data
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        if not items:
            return problem(400, "expected one item (a JSON object) or a batch (a JSON list of objects)")
        limit = settings.TAGLOOP_INGEST_MAX_ITEMS
        if len(items) > limit:
            return _too_large(f"batch of {len(items)} items; at most {limit} per request, send several requests")
        rows, errors = _validate(items)
        if errors:
            return problem(400, f"{len(errors)} invalid item(s); nothing was stored", errors=errors)
        source = request.auth.source
        results = content_ingest(rows=rows, source=source)
        return Response(
            {"source": source, "items": IngestResultSerializer(results, many=True).data},
            status=status.HTTP_201_CREATED,
        )


def _validate(items: list) -> tuple[list[ContentRow], list[dict]]:
    rows: list[ContentRow] = []
    errors: list[dict] = []
    first_index_of_id: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(_error(index, None, f"expected an object, found {type(item).__name__}"))
            continue
        record = {str(key).strip().lower(): value for key, value in item.items()}
        unknown = sorted(set(record) - ITEM_FIELDS)
        if unknown:
            errors.append(
                _error(
                    index,
                    unknown[0],
                    f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(sorted(ITEM_FIELDS))}",
                )
            )
            continue
        record.setdefault("description", "")
        record.setdefault("created_on", "")
        try:
            row = validate_record(record, set(), index)
        except RecordError as exc:
            errors.append(_error(index, exc.field, str(exc)))
            continue
        if row.external_id in first_index_of_id:
            errors.append(
                _error(
                    index,
                    "id",
                    f"duplicate id '{row.external_id}' (first at index {first_index_of_id[row.external_id]})",
                )
            )
            continue
        first_index_of_id[row.external_id] = index
        rows.append(row)
    return rows, errors


def _error(index: int, field: str | None, message: str) -> dict:
    return {"index": index, "field": field, "message": message}


def _too_large(message: str):
    return problem(413, message)
