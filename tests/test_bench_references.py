"""bench-serve's reference views exist only under the benchmark's settings: never on tagloop's own URLs."""

import pytest
from django.test import Client
from django.urls import Resolver404, resolve


def test_tagloop_itself_mounts_no_benchmark_url():
    for path in ("/bench/plain", "/bench/naive-predict"):
        with pytest.raises(Resolver404):
            resolve(path)


@pytest.mark.django_db
def test_under_the_bench_settings_the_references_answer_as_tagloop_does(tags, model_dir, settings):
    from tests.factories import make_active_model

    make_active_model(tags)
    settings.ROOT_URLCONF = "benchmarks.serving.urls"
    client = Client()
    body = {"title": "Semantic segmentation of street scenes", "description": "pixel labels with a U-Net"}
    plain = client.post("/bench/plain", body, content_type="application/json")
    assert plain.status_code == 200 and plain.json()["tag"] == "computer-vision"
    naive = client.post("/bench/naive-predict", body, content_type="application/json").json()
    ours = client.post("/api/v1/predict", body, content_type="application/json").json()
    assert naive["tag"] == ours["tag"] and naive["model_version"] == ours["model_version"]
    assert naive["probabilities"] == pytest.approx(ours["probabilities"], abs=1e-6)
