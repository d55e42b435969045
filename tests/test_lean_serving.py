"""Online predictions go through the compiled form of a linear model, and answer as the pipeline does."""

import pytest
from django.urls import reverse

from ml.compiled import CompiledLinear
from ml.prediction import predict
from ml.text import prepare_text
from predictions.model_store import load_for_serving, load_version
from tests.factories import make_active_model

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_model_cache")]

TEXTS = [
    {"title": "Semantic segmentation of images", "description": "pixel classification with a U-Net"},
    {"title": "Serving models with Kubernetes", "description": "autoscaling inference"},
    {"title": "Fine-tuning BERT", "description": ""},
    {"title": "zzqx", "description": "vvkw"},
]


def _answers(client):
    return [client.post(reverse("api-predict"), body, content_type="application/json").json() for body in TEXTS]


def test_the_api_serves_a_linear_model_compiled_and_answers_as_the_pipeline_does(client, tags, model_dir, settings):
    version = make_active_model(tags)
    assert isinstance(load_for_serving(version), CompiledLinear)
    lean = _answers(client)

    settings.TAGLOOP_LEAN_PREDICT = False
    assert load_for_serving(version) is load_version(version)
    assert _answers(client) == lean  # rounded to 6 decimals: the same figures to the digit

    pipeline = load_version(version)
    expected = predict(pipeline, [prepare_text(body["title"], body["description"]) for body in TEXTS])
    assert [answer["probabilities"] for answer in lean] == [result.probabilities for result in expected]


def test_a_model_that_does_not_compile_is_served_by_its_pipeline(client, tags, model_dir):
    version = make_active_model(tags, algorithm="rules")
    assert load_for_serving(version) is load_version(version)
    response = client.post(reverse("api-predict"), TEXTS[0], content_type="application/json")
    assert response.status_code == 200 and response.json()["tag"] == "computer-vision"


def test_a_compiler_failure_is_logged_and_the_pipeline_serves(client, tags, model_dir, monkeypatch, caplog):
    import ml.compiled

    def broken(pipeline):
        raise RuntimeError("a bug in the compiler")

    monkeypatch.setattr(ml.compiled, "compile_pipeline", broken)
    version = make_active_model(tags)
    with caplog.at_level("ERROR", logger="predictions.model_store"):
        response = client.post(reverse("api-predict"), TEXTS[0], content_type="application/json")
    assert response.status_code == 200 and response.json()["model_version"] == version.number
    assert load_for_serving(version) is load_version(version)
    assert any("compiled predict path failed" in record.getMessage() for record in caplog.records)
