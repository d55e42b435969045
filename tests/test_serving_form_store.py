"""Each trained version's serving form beside its artifact: what a web process loads instead of skops and scikit-learn."""

import json
import os
import subprocess
import sys

import pytest
from django.urls import reverse

from ml.catalogue import minilm_available
from ml.compiled import CompiledLinear, serving_form_bytes
from ml.persistence import ArtifactIntegrityError, sha256_hex
from ml.prediction import predict
from ml.text import prepare_text
from predictions import model_store
from predictions.artifact_store import (
    BACKENDS,
    artifact_copy_to_database,
    local_artifact_path,
    local_serving_path,
    serving_form_read,
)
from predictions.model_store import load_for_serving, load_version
from predictions.models import ModelArtifact, ModelVersion
from tests.conftest import REPO, _database_url
from tests.factories import make_active_model

pytestmark = pytest.mark.usefixtures("fresh_model_cache")

TEXTS = [
    {"title": "Semantic segmentation of images", "description": "pixel classification with a U-Net"},
    {"title": "Serving models with Kubernetes", "description": "autoscaling inference"},
    {"title": "zzqx", "description": "vvkw"},
]


def _answers(client):
    return [client.post(reverse("api-predict"), body, content_type="application/json").json() for body in TEXTS]


@pytest.mark.django_db
@pytest.mark.parametrize("store", ["local", "database"])
def test_training_saves_the_serving_form_and_serving_loads_it_without_the_pipeline(
    client, tags, model_dir, settings, store
):
    settings.TAGLOOP_MODEL_STORE = store
    version = make_active_model(tags)
    payload = serving_form_read(version)
    assert payload is not None and sha256_hex(payload) == version.serving_sha256
    if store == "local":
        assert local_serving_path(local_artifact_path(version)).read_bytes() == payload
    else:
        assert bytes(ModelArtifact.objects.get(model_version=version).serving) == payload

    served = _answers(client)
    loaded = model_store._loaded.get((version.number, version.artifact_sha256), lambda: None, capacity=2)
    assert isinstance(loaded.compiled, CompiledLinear) and loaded._pipeline is None  # skops never ran

    pipeline = load_version(version)  # a worker's batch, a comparison: the pipeline, loaded when first asked for
    assert serving_form_bytes(pipeline) == payload
    expected = predict(pipeline, [prepare_text(body["title"], body["description"]) for body in TEXTS])
    assert [answer["probabilities"] for answer in served] == [result.probabilities for result in expected]
    assert [answer["tag"] for answer in served] == [result.tag for result in expected]


@pytest.mark.django_db
def test_an_altered_serving_form_is_refused_like_an_altered_artifact(client, tags, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = "local"
    version = make_active_model(tags)
    path = local_serving_path(local_artifact_path(version))
    altered = bytearray(path.read_bytes())
    altered[len(altered) // 2] ^= 0xFF
    path.write_bytes(bytes(altered))
    with pytest.raises(ArtifactIntegrityError, match="serving form"):
        serving_form_read(version)
    response = client.post(reverse("api-predict"), TEXTS[0], content_type="application/json")
    assert response.status_code == 503 and "is not the one trained" in response.json()["detail"]


@pytest.mark.django_db
def test_a_serving_form_left_without_its_artifact_does_not_serve(client, tags, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = "local"
    version = make_active_model(tags)
    local_artifact_path(version).unlink()  # the serving form stays
    assert serving_form_read(version) is None
    response = client.post(reverse("api-predict"), TEXTS[0], content_type="application/json")
    assert response.status_code == 503 and "is missing" in response.json()["detail"]


@pytest.mark.django_db
def test_a_version_without_a_serving_form_is_compiled_from_its_artifact_as_before(client, tags, model_dir):
    version = make_active_model(tags)
    ModelVersion.objects.filter(pk=version.pk).update(serving_sha256="")  # trained before serving forms
    version.refresh_from_db()
    assert serving_form_read(version) is None
    assert isinstance(load_for_serving(version), CompiledLinear)
    assert model_store._loaded.get((version.number, version.artifact_sha256), lambda: None, capacity=2)._pipeline
    assert client.post(reverse("api-predict"), TEXTS[0], content_type="application/json").status_code == 200


@pytest.mark.django_db
def test_a_model_without_a_serving_form_records_none(tags, model_dir):
    version = make_active_model(tags, algorithm="rules")
    assert version.serving_sha256 == "" and serving_form_read(version) is None
    assert load_for_serving(version) is load_version(version)


@pytest.mark.django_db
def test_the_import_into_the_database_copies_the_serving_form(tags, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = "local"
    version = make_active_model(tags)
    ModelArtifact.objects.filter(model_version=version).delete()
    assert artifact_copy_to_database(model_version=version) == "copied"
    assert sha256_hex(bytes(ModelArtifact.objects.get(model_version=version).serving)) == version.serving_sha256
    local_serving_path(local_artifact_path(version)).unlink()
    assert BACKENDS["local"].read_serving(version) is None
    assert sha256_hex(serving_form_read(version)) == version.serving_sha256


WEB_PROCESS = """
import json, sys
import config.wsgi  # a web process's boot: Django, the URLs, the active model loaded and one text answered
from django.test import Client
from predictions.model_store import _loaded
response = Client().post("/api/v1/predict", {body}, content_type="application/json")
heavy = [name for name in ("sklearn", "scipy", "pandas", "skops", "skops.io") if name in sys.modules]
print(json.dumps({{"status": response.status_code, "answer": response.json(), "heavy": heavy, "loaded": len(_loaded.keys())}}))
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "algorithm",
    [
        "tfidf-linear",
        pytest.param(
            "minilm-linear",
            marks=pytest.mark.skipif(not minilm_available(), reason="the MiniLM encoder is not installed"),
        ),
    ],
)
def test_a_fresh_web_process_answers_without_importing_scikit_learn_scipy_pandas_or_skops(
    client, tags, model_dir, algorithm
):
    version = make_active_model(tags, algorithm=algorithm)
    expected = client.post(reverse("api-predict"), TEXTS[0], content_type="application/json").json()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": _database_url(),
        "TAGLOOP_MODEL_DIR": str(model_dir),
        "TAGLOOP_WARM_AT_BOOT": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS.format(body=TEXTS[0])],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["status"] == 200 and found["answer"]["model_version"] == version.number
    assert found["answer"]["probabilities"] == expected["probabilities"]
    assert found["loaded"] == 1  # warmed at boot
    assert found["heavy"] == []
