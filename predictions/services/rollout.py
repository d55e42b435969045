"""Promotion: exactly one active model, and all content re-predicted by it."""
from django.db import transaction
from django.utils import timezone

from predictions.models import ModelStatus, ModelVersion


class PromotionError(Exception):
    pass


@transaction.atomic
def model_version_promote(*, model_version: ModelVersion, promoted_by=None) -> ModelVersion:
    """Make ``model_version`` the one active model and re-predict all content with it."""
    from predictions.tasks import predict_missing

    version = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
    if version.status == ModelStatus.ACTIVE:
        return version
    if version.status not in (ModelStatus.CANDIDATE, ModelStatus.RETIRED):
        raise PromotionError(f"v{version.number} is {version.status}; only a trained candidate can be promoted")
    # Lock the current active row so two promotions cannot interleave; the partial
    # unique constraint is the last line of defence.
    ModelVersion.objects.select_for_update().filter(status=ModelStatus.ACTIVE).update(
        status=ModelStatus.RETIRED
    )
    version.status, version.promoted_at = ModelStatus.ACTIVE, timezone.now()
    version.save(update_fields=["status", "promoted_at"])
    predict_missing.delay_on_commit(version.pk)
    return version


