"""Two machines sharing only the database and the broker: one trains, the other serves.

The worker runs with a var and model folder of its own ("machine B"); this test process
("machine A") has another, empty one. With the database store, the model the worker
trains is promoted, loaded and served here, and the worker re-predicts with it too.
"""

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse

from labeling.models import Content
from predictions.model_store import forget_loaded_models
from predictions.models import ModelArtifact, ModelStatus, ModelVersion, Prediction
from tests.conftest import celery_worker, wait_until
from tests.factories import make_gold_dataset

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def machine_b(django_db_setup, django_db_blocker, tmp_path_factory):
    if not django_settings.REDIS_URL:
        pytest.skip("machines share a broker through Redis only (the filesystem broker is in each var folder)")
    var = tmp_path_factory.mktemp("machine-b-var")
    env = {"TAGLOOP_MODEL_STORE": "database", "TAGLOOP_VAR_DIR": str(var), "TAGLOOP_MODEL_DIR": str(var / "models")}
    with celery_worker(tmp_path_factory, env) as log:
        yield {"var": var, "log": log}


def test_a_model_trained_on_another_machine_serves_here(machine_b, settings, tags, tmp_path, client, capsys):
    settings.TAGLOOP_MODEL_STORE = "database"
    settings.MODEL_DIR = tmp_path / "machine-a-models"
    make_gold_dataset(tags)

    call_command("train", "--wait", "--timeout", "240")
    version = ModelVersion.objects.get(number=int(capsys.readouterr().out.strip().splitlines()[-1]))
    assert version.status == ModelStatus.CANDIDATE, (version.error, machine_b["log"].read_text()[-3000:])
    row = ModelArtifact.objects.get(model_version=version)
    assert row.sha256 == version.artifact_sha256 and row.size > 0
    # Neither machine wrote a file: the row is the only copy.
    assert not settings.MODEL_DIR.exists() and not list((machine_b["var"] / "models").glob("*"))

    call_command("promote", str(version.number))  # refuses a version whose artifact the store lacks
    forget_loaded_models()
    answer = client.post(
        reverse("api-predict"), {"title": "object detection in video frames"}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["model_version"] == version.number and answer.json()["tag"] == "computer-vision"
    health = client.get(reverse("healthz")).json()
    assert health["checks"]["model"] == {
        **health["checks"]["model"],
        "ok": True,
        "detail": f"v{version.number} minilm-linear loaded",  # the default algorithm
    }

    # Machine B loads it back from the database to re-predict everything after the promotion.
    wait_until(
        lambda: Prediction.objects.filter(model_version=version).count() == Content.objects.count(),
        message="the worker to re-predict all content with the promoted model",
    )
