"""static-linear as an algorithm option on real services: the worker trains it, promotion re-predicts with it,
the predict API serves it, and nothing is stored per item (its vectors cost less to make than to fetch)."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from labeling.models import Content
from ml.catalogue import algorithm_available
from predictions.model_store import forget_loaded_models
from predictions.models import ContentEmbedding, ModelStatus, ModelVersion, Prediction
from tests.conftest import wait_until
from tests.factories import make_gold_dataset

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not algorithm_available("static-linear"), reason="the MiniLM encoder it distils from"),
]


def test_static_linear_trains_on_the_worker_is_promoted_and_serves(
    celery_worker_process, settings, tags, client, capsys
):
    settings.MODEL_DIR = celery_worker_process["model_dir"]
    make_gold_dataset(tags)

    # The worker's first fit distils the table into its TAGLOOP_VAR_DIR unless one is there.
    call_command("train", "--algorithm", "static-linear", "--wait", "--timeout", "240")
    version = ModelVersion.objects.get(number=int(capsys.readouterr().out.strip().splitlines()[-1]))
    assert version.status == ModelStatus.CANDIDATE, version.error
    assert version.algorithm == "static-linear" and version.metrics["overall"]["f1"] > 0.5
    assert not ContentEmbedding.objects.exists()

    call_command("promote", str(version.number))
    wait_until(
        lambda: Prediction.objects.filter(model_version=version).count() == Content.objects.count(),
        message="the worker to re-predict all content with the promoted model",
    )
    forget_loaded_models()
    answer = client.post(
        reverse("api-predict"), {"title": "object detection in video frames"}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["model_version"] == version.number and answer.json()["tag"] == "computer-vision"
    health = client.get(reverse("healthz")).json()
    assert health["checks"]["model"]["detail"] == f"v{version.number} static-linear loaded"
