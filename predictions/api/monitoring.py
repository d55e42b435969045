"""Drift results over HTTP, for reviewers and staff."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_schema import ProblemSerializer, problems
from predictions.models import DriftCheck
from predictions.selectors.monitoring import drift_latest


class CanMonitor(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_staff or user.has_perm("labeling.view_quality")))


class DriftCheckSerializer(serializers.ModelSerializer):
    # A declared field leaves the class (DRF's SerializerMetaclass): it never shadows Field.source.
    source = serializers.SerializerMethodField()  # type: ignore[assignment]
    model_version = serializers.IntegerField(
        source="model_version.number", allow_null=True, help_text="null once the version checked against is deleted"
    )
    tests = serializers.JSONField()

    class Meta:
        model = DriftCheck
        fields = ["id", "created_at", "source", "window_start", "window_end", "n", "model_version", "drifted", "tests"]

    def get_source(self, check) -> str:
        return check.source or "all"


class DriftSerializer(serializers.Serializer):
    drifted = serializers.BooleanField(help_text="whether the latest all-sources check drifted")
    checks = DriftCheckSerializer(many=True)


class DriftView(APIView):
    """The latest drift check of every window ("all" = all sources together).

    ``tests`` holds each test (name, statistic, p_value, alpha, drifted, details); the
    last one is the Bonferroni-combined overall test that sets ``drifted``.
    """

    permission_classes = [CanMonitor]

    @extend_schema(
        responses={
            200: DriftSerializer,
            **problems(
                400,
                401,
                403,
                429,
                serializer=ProblemSerializer,
                e400="a NUL character in the query string",
                e403="neither staff nor a reviewer",
            ),
        }
    )
    def get(self, request):
        checks = drift_latest()
        overall = next((check for check in checks if check.source == ""), None)
        return Response(
            {
                "drifted": bool(overall and overall.drifted),
                "checks": DriftCheckSerializer(checks, many=True).data,
            }
        )
