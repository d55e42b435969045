"""Behavioural tests of the default model trained on the real dataset.

Minimum functionality (obvious inputs get the obvious tag), directional
expectations (swapping image wording for text wording moves the tag),
invariance (irrelevant edits do not), and a CV guard that the default beats
a plain TF-IDF + logistic regression baseline.
"""
import os
import statistics
from pathlib import Path

import pytest

from ml.algorithms import DEFAULT_ALGORITHM
from ml.benchmark import BASELINE_NAME, catalogue_fitters, cross_validate
from ml.dataset import read_labelled_csv
from ml.evaluation import evaluate
from ml.prediction import predict
from ml.text import prepare_text
from ml.training import train_model

REPO = Path(__file__).resolve().parents[2]
CV, NLP, OPS = "computer-vision", "natural-language-processing", "mlops"


def dataset_path() -> Path:
    """$TAGLOOP_DATASET, else the copy shipped in the repo, else the shared one."""
    if os.environ.get("TAGLOOP_DATASET"):
        return Path(os.environ["TAGLOOP_DATASET"])
    for candidate in (REPO / "data" / "madewithml_dataset.csv",
                      Path("/work/shared/data/madewithml_dataset.csv")):
        if candidate.exists():
            return candidate
    pytest.fail("dataset not found: set TAGLOOP_DATASET or ship data/madewithml_dataset.csv")


@pytest.fixture(scope="module")
def items():
    return read_labelled_csv(dataset_path())


@pytest.fixture(scope="module")
def model(items):
    return train_model(texts=[prepare_text(i.title, i.description) for i in items],
                       labels=[i.tag for i in items], algorithm=DEFAULT_ALGORITHM, random_state=0)


def tag_of(model, title: str, description: str = "") -> str:
    return predict(model, [prepare_text(title, description)])[0].tag


def probability(model, text: str, tag: str) -> float:
    return predict(model, [prepare_text(text, "")])[0].probabilities[tag]


def test_dataset_is_the_expected_one(items):
    assert len(items) == 764
    assert {i.tag for i in items} == {CV, NLP, OPS, "other"}


@pytest.mark.parametrize("title,description,expected", [
    ("Real-time object detection", "Detect and segment objects in images and video with a CNN.", CV),
    ("Face recognition for photos", "Recognise faces in photos using convolutional networks.", CV),
    ("Sentiment analysis with BERT", "Fine-tune a transformer language model to classify the sentiment of text.", NLP),
    ("Machine translation", "Translate sentences between languages with a sequence-to-sequence model.", NLP),
    ("Deploying ML models to production",
     "Serve models behind an API with Docker and Kubernetes and monitor them.", OPS),
    ("Experiment tracking and model registry",
     "Track experiments and version models with MLflow in your ML pipeline.", OPS),
])
def test_minimum_functionality(model, title, description, expected):
    assert tag_of(model, title, description) == expected


def test_directional_image_wording_to_text_wording_moves_the_tag(model):
    image = "Classifying images: a dataset of labelled images and a model that classifies each image."
    text = "Classifying text: a dataset of labelled documents and a model that classifies each sentence."
    assert tag_of(model, image) == CV
    assert tag_of(model, text) == NLP
    assert probability(model, text, NLP) > probability(model, image, NLP)


def test_directional_adding_deployment_context_raises_mlops(model):
    plain = "Image classification with a convolutional network."
    deployed = plain + " Deploy and monitor it in production with Docker and Kubernetes."
    assert probability(model, deployed, OPS) > probability(model, plain, OPS)


@pytest.mark.parametrize("edit", [
    lambda t: t + " https://github.com/someone/project",
    lambda t: t.upper(),
    lambda t: t.replace(" ", "   "),
])
def test_invariant_to_urls_case_and_spacing(model, edit):
    text = "Named entity recognition: extract people and places from news text with spaCy."
    assert tag_of(model, edit(text)) == tag_of(model, text) == NLP


def test_evaluation_on_real_predictions_reports_the_llm_slice(items, model):
    # Training-set evaluation: checks wiring and slice membership, not generalisation.
    texts = [prepare_text(i.title, i.description) for i in items]
    report = evaluate(items=items, predictions=predict(model, texts), labels=[CV, NLP, OPS, "other"])
    assert report["n"] == 764
    assert report["slices"]["nlp_llm"]["n"] > 0
    assert report["overall"]["f1"] > 0.9


def test_default_beats_plain_tfidf_logreg_on_cross_validation(items):
    texts = [prepare_text(i.title, i.description) for i in items]
    labels = [i.tag for i in items]
    fitters = catalogue_fitters(random_state=0)
    default = statistics.mean(cross_validate(texts, labels, fit=fitters[DEFAULT_ALGORITHM]))
    baseline = statistics.mean(cross_validate(texts, labels, fit=fitters[BASELINE_NAME]))
    assert default >= baseline
