"""Predictions whose item or model version is gone: removed now and then.

PostgreSQL does not check a prediction's keys (predictions.models.Prediction says why): Django's delete collector
removes an item's or a version's predictions with it, but a re-prediction chunk that predicted an item while it was
being deleted may still write that item's prediction after the collector ran. Such rows are on no page; they would
count in their version's drift and progress figures. This finds and deletes them.
"""

from django.db.models import Exists, OuterRef

from labeling.models import Content
from predictions.models import ModelVersion, Prediction


def predictions_orphaned_delete() -> int:
    """Delete the predictions whose item or model version no longer exists; returns how many."""
    item_gone = ~Exists(Content.objects.filter(pk=OuterRef("content_id")))
    version_gone = ~Exists(ModelVersion.objects.filter(pk=OuterRef("model_version_id")))
    deleted, _ = Prediction.objects.filter(item_gone | version_gone).delete()
    return deleted
