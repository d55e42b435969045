import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from ml.algorithms import ALGORITHMS, DEFAULT_ALGORITHM, get_algorithm
from ml.embeddings import MiniLMEmbedder, SentenceEmbedder
from ml.training import train_model
from tests.ml.conftest import catalogue_params


def catalogue():
    """Every algorithm; those needing the optional packages carry the `embeddings` mark."""
    return [*catalogue_params(ALGORITHMS)]


TEXTS = [
    "object detection in images",
    "image segmentation network",
    "face recognition from photos",
    "video frame classification",
    "text classification with bert",
    "machine translation of language",
    "sentiment of tweets text",
    "question answering over documents",
    "deploy model to kubernetes",
    "monitoring models in production",
    "mlflow experiment tracking",
    "serving predictions behind an api",
]
LABELS = ["cv"] * 4 + ["nlp"] * 4 + ["ops"] * 4


def test_required_algorithms_and_default():
    assert {"minilm-linear", "tfidf-linear", "embeddings-linear", "rules", "majority", "random"} <= set(ALGORITHMS)
    assert DEFAULT_ALGORITHM == "minilm-linear"


@pytest.mark.parametrize("name", sorted(ALGORITHMS))  # building needs no torch
def test_factory_returns_a_fresh_unfitted_classifier_pipeline(name):
    first, second = ALGORITHMS[name](0), ALGORITHMS[name](0)
    assert isinstance(first, Pipeline) and is_classifier(first)
    assert first is not second
    assert not hasattr(first, "classes_")


@pytest.mark.parametrize("name", catalogue())
def test_each_algorithm_fits_tiny_data_and_gives_distributions(name):
    model = train_model(texts=TEXTS, labels=LABELS, algorithm=name, random_state=0)
    assert list(model.classes_) == ["cv", "nlp", "ops"]
    proba = model.predict_proba(["segmentation of images", "translation of text", "a new thing"])
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()


def test_tfidf_linear_learns_the_tiny_data():
    model = train_model(texts=TEXTS, labels=LABELS, algorithm="tfidf-linear", random_state=0)
    assert list(model.predict(["image detection", "language text", "kubernetes deploy"])) == ["cv", "nlp", "ops"]


def test_tfidf_linear_configuration():
    pipeline = get_algorithm("tfidf-linear")(7)
    features, classifier = pipeline.named_steps["features"], pipeline.named_steps["classifier"]
    assert isinstance(features, FeatureUnion)
    word, char = dict(features.transformer_list)["word"], dict(features.transformer_list)["char"]
    assert (word.analyzer, word.ngram_range, word.sublinear_tf) == ("word", (1, 2), True)
    assert (char.analyzer, char.ngram_range) == ("char_wb", (2, 5))
    assert isinstance(classifier, CalibratedClassifierCV) and classifier.method == "sigmoid"
    assert isinstance(classifier.estimator, LinearSVC) and classifier.estimator.random_state == 7


def test_embeddings_linear_configuration():
    pipeline = get_algorithm("embeddings-linear")(3)
    blocks = dict(pipeline.named_steps["features"].transformer_list)
    assert list(blocks) == ["embedding", "word", "char"]
    assert isinstance(blocks["embedding"], SentenceEmbedder)
    classifier = pipeline.named_steps["classifier"]
    assert isinstance(classifier, CalibratedClassifierCV) and classifier.estimator.random_state == 3


def test_minilm_linear_is_embeddings_linear_with_the_numpy_encoder():
    pipeline = get_algorithm("minilm-linear")(3)
    blocks = dict(pipeline.named_steps["features"].transformer_list)
    assert list(blocks) == ["embedding", "word", "char"] and type(blocks["embedding"]) is MiniLMEmbedder
    assert not pipeline.named_steps["features"].transformer_weights
    reference = get_algorithm("embeddings-linear")(3)
    ours, theirs = (model.named_steps["classifier"].get_params(deep=False) for model in (pipeline, reference))
    assert ours.pop("estimator").get_params() == theirs.pop("estimator").get_params() and ours == theirs


@pytest.mark.minilm
def test_minilm_linear_learns_the_tiny_data():
    model = train_model(texts=TEXTS, labels=LABELS, algorithm="minilm-linear", random_state=0)
    assert list(model.predict(["image detection", "language text", "kubernetes deploy"])) == ["cv", "nlp", "ops"]


@pytest.mark.embeddings
def test_embeddings_linear_learns_the_tiny_data():
    model = train_model(texts=TEXTS, labels=LABELS, algorithm="embeddings-linear", random_state=0)
    assert list(model.predict(["image detection", "language text", "kubernetes deploy"])) == ["cv", "nlp", "ops"]


def test_random_is_a_seeded_stratified_guess():
    pipeline = get_algorithm("random")(11)
    classifier = pipeline.named_steps["classifier"]
    assert isinstance(classifier, DummyClassifier)
    assert (classifier.strategy, classifier.random_state) == ("stratified", 11)
    first = train_model(texts=TEXTS, labels=LABELS, algorithm="random", random_state=11)
    second = train_model(texts=TEXTS, labels=LABELS, algorithm="random", random_state=11)
    np.testing.assert_array_equal(first.predict(TEXTS), second.predict(TEXTS))


def test_unknown_algorithm_lists_the_choices():
    with pytest.raises(
        ValueError,
        match=(
            r"unknown algorithm 'x'; choose one of: embeddings-linear, majority, minilm-linear, random, rules, "
            r"static-linear, tfidf"
        ),
    ):
        get_algorithm("x")
