"""Reads behind the model versions' REST API (predictions/api/model_versions.py)."""

from django.db.models import Prefetch, QuerySet

from predictions.models import ModelEvent, ModelVersion


def model_versions_for_api() -> QuerySet[ModelVersion]:
    # The stored per-item checks (hundreds of KB with the meaning part's vectors) are read only to check items.
    return ModelVersion.objects.select_related("created_by").defer("ood_checks").order_by("-number")


def model_version_with_events() -> QuerySet[ModelVersion]:
    """Versions with their audit trail (newest first), for one version's page of the API."""
    events = ModelEvent.objects.select_related("actor", "previous_version").order_by("-created_at", "-pk")
    return model_versions_for_api().prefetch_related(Prefetch("events", events))
