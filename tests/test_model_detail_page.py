"""A version's page says what it is: a trained model, or a snapshot that was never trained."""

import pytest
from django.urls import reverse

from predictions.models import ModelStatus, ModelVersion
from predictions.services import model_version_cancel, model_version_request

pytestmark = pytest.mark.django_db


def test_a_cancelled_version_is_a_snapshot_not_trained_without_an_empty_artifact(client, tags, admin_user):
    version = model_version_request(algorithm="rules", requested_by=admin_user)
    ModelVersion.objects.filter(pk=version.pk).update(training_label_count=492, training_data_hash="ab" * 32)
    model_version_cancel(model_version=version, cancelled_by=admin_user)
    assert ModelVersion.objects.get(pk=version.pk).status == ModelStatus.CANCELLED
    client.force_login(admin_user)
    page = client.get(reverse("predictions:model-detail", args=[version.number])).content.decode()
    assert "a snapshot of\n  492 gold labels" in page and "not trained (cancelled)" in page
    assert "artifact sha256" not in page and "trained on" not in page
