"""Gold labels exported over the REST API, in any of the /gold/ page's formats and with its filters.

Scripts holding an API token get the same file a reviewer downloads from /gold/ (``manage.py
export_gold`` is the same again, on the server's side).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from common.formtools import form_errors_text
from config.api_errors import problem
from config.api_permissions import RolePermission
from config.api_schema import problems
from labeling import selectors
from labeling.formats import EXPORT_FORMATS, WRITERS
from labeling.formats.responses import export_response
from labeling.forms import GoldFilterForm
from labeling.models import Provenance, Split

EXPORT_GOLD = "labeling.export_goldlabel"
CONTENT_TYPES = sorted({writer.content_type.split(";")[0] for writer in WRITERS.values()})


class ExportedTaskSerializer(serializers.Serializer):
    """One task of a Label Studio JSON export (its fields are Label Studio's; JSON-MIN tasks are flat)."""

    data = serializers.DictField(  # type: ignore[assignment]  # a declared field (see labeling.api.ingest)
        required=False, help_text="JSON: the item (text, title, description, external_id)"
    )


def _body(content_type: str):
    """Label Studio's JSON exports are one array of tasks; every other format is a file to save as is."""
    if content_type == "application/json":
        return ExportedTaskSerializer(many=True)
    return OpenApiTypes.BINARY


def _choice(name: str, values: list[str], description: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, enum=values, required=False, description=description)


@extend_schema(
    tags=["gold labels"],
    parameters=[
        _choice("export_format", EXPORT_FORMATS, "the file's format (default csv)"),
        OpenApiParameter(
            "q", {"type": "string", "maxLength": 200}, required=False, description="search in titles and descriptions"
        ),
        OpenApiParameter("tag", str, required=False, description="only this tag's labels (a tag slug)"),
        _choice("provenance", list(Provenance.values), "only labels of this provenance"),
        _choice("split", list(Split.values), "only this split"),
    ],
    responses={
        **{
            (200, content_type): OpenApiResponse(_body(content_type), description="the file")
            for content_type in CONTENT_TYPES
        },
        **problems(
            400,
            401,
            403,
            429,
            501,
            e403="not allowed to export gold labels",
            e501="huggingface-parquet where the Parquet extra (requirements-formats.txt) is not installed",
        ),
    },
)
class GoldLabelExportView(APIView):
    """The gold labels matching the filters as one file; an unknown filter or value is a 400, never a wider export."""

    permission_classes = [RolePermission]
    required_permissions = {"get": EXPORT_GOLD}

    def get(self, request):
        fmt = request.query_params.get("export_format") or "csv"
        if fmt not in WRITERS:
            return problem(400, f"export_format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}.")
        form = GoldFilterForm(request.query_params, not_filters={"export_format"})
        if not form.is_valid():
            return problem(400, "Nothing exported. " + form_errors_text(form, prefix_names=True))
        return export_response(fmt, selectors.gold_export_rows(selectors.gold_labels(**form.cleaned_data)))
