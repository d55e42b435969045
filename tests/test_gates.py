"""Promotion gates when the active model cannot be loaded."""

import pytest

from predictions.models import ModelEvent, ModelStatus, ModelVersion
from predictions.services import PromotionBlocked, model_version_promote, model_version_train
from tests.factories import lose_artifact, make_active_model

pytestmark = pytest.mark.django_db


def test_a_missing_active_artifact_blocks_promotion_with_a_clear_reason_until_overridden(tags, model_dir, admin_user):
    active = make_active_model(tags)
    lose_artifact(active)  # a wiped var/models, a lost row
    candidate = ModelVersion.objects.create(number=2, algorithm="tfidf-linear", params={"random_state": 0})
    model_version_train(model_version_id=candidate.pk)
    candidate.refresh_from_db()
    with pytest.raises(PromotionBlocked) as blocked:
        model_version_promote(model_version=candidate, promoted_by=admin_user)
    assert blocked.value.failures == [
        f"the active model v{active.number} cannot be compared with: its artifact {active.artifact_path} is missing"
    ]
    model_version_promote(model_version=candidate, promoted_by=admin_user, override_reason="artifact lost")
    assert ModelVersion.objects.get(status=ModelStatus.ACTIVE) == candidate
    assert ModelEvent.objects.get(action="promoted", model_version=candidate).gate_failures == blocked.value.failures


def test_a_rollback_to_a_version_whose_artifact_is_missing_is_refused(tags, model_dir, admin_user):
    from predictions.services import PromotionError, model_version_rollback

    first = make_active_model(tags)
    second = ModelVersion.objects.create(number=2, algorithm="tfidf-linear", params={"random_state": 1})
    model_version_train(model_version_id=second.pk)
    second.refresh_from_db()
    model_version_promote(model_version=second, promoted_by=admin_user, override_reason="test")
    lose_artifact(first)
    with pytest.raises(PromotionError, match=f"v{first.number} cannot serve: its artifact .* is missing"):
        model_version_rollback(rolled_back_by=admin_user, reason="the new one is worse")
    assert ModelVersion.objects.get(status=ModelStatus.ACTIVE) == second
