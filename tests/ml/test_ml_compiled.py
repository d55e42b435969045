"""The compiled single-text path answers exactly as scikit-learn does, on the whole dataset."""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from ml.algorithms import get_algorithm
from ml.compiled import CompiledLinear, compile_pipeline
from ml.dataset import read_labelled_csv
from ml.features import CompactTfidfVectorizer
from ml.persistence import model_from_bytes, model_to_bytes
from ml.prediction import predict
from ml.text import prepare_text
from ml.training import train_model

TOLERANCE = 1e-6
# Texts a stream may send besides the dataset's: nothing, only unknown terms, odd spacing and scripts.
ODD_TEXTS = ["", " ", "zzqx vvkw", "a", "日本語のテキスト 画像認識", "pytorch   pytorch pytorch", "c++ / c# ---"]


@pytest.fixture(scope="module")
def dataset(dataset_file):
    items = read_labelled_csv(dataset_file)
    return [prepare_text(item.title, item.description) for item in items], [item.tag for item in items]


def _assert_same_answers(model, texts):
    compiled = compile_pipeline(model)
    assert isinstance(compiled, CompiledLinear)
    expected = model.predict_proba(texts)
    actual = np.vstack([compiled.predict_proba([text]) for text in texts])  # one text per call, as served
    assert actual.shape == expected.shape
    worst = np.abs(actual - expected).max()
    assert worst <= TOLERANCE, f"largest difference {worst:.2e}"
    assert list(compiled.classes_) == list(model.classes_)
    assert (actual.argmax(axis=1) == expected.argmax(axis=1)).all()
    return compiled


def test_tfidf_linear_equals_sklearn_on_every_item_of_the_dataset(dataset):
    texts, labels = dataset
    model = train_model(texts=texts, labels=labels, algorithm="tfidf-linear")
    _assert_same_answers(model, texts + ODD_TEXTS)


def test_a_loaded_artifact_compiles_to_the_same_answers(dataset):
    # Serving compiles what skops loaded (CompactTfidfVectorizer rebuilt from its array of terms).
    texts, labels = dataset
    model = model_from_bytes(
        model_to_bytes(train_model(texts=texts[:300], labels=labels[:300], algorithm="tfidf-linear"))
    )
    _assert_same_answers(model, texts)


def test_isotonic_calibration_and_a_single_feature_block_equal_sklearn(dataset):
    texts, labels = dataset
    model = Pipeline(
        [
            ("features", CompactTfidfVectorizer(ngram_range=(1, 2), min_df=2, norm="l1")),
            ("classifier", CalibratedClassifierCV(LinearSVC(random_state=0), method="isotonic", cv=3)),
        ]
    ).fit(texts, labels)
    _assert_same_answers(model, texts + ODD_TEXTS)


def test_two_classes_and_an_ensemble_of_calibrated_classifiers_equal_sklearn(dataset):
    texts, labels = dataset
    binary = ["computer-vision" if label == "computer-vision" else "rest" for label in labels]
    model = get_algorithm("tfidf-linear")(0)
    model.set_params(classifier__ensemble=True, classifier__cv=3)
    model.fit(texts, binary)
    _assert_same_answers(model, texts + ODD_TEXTS)


@pytest.mark.embeddings
def test_embeddings_linear_equals_sklearn_on_every_item_of_the_dataset(dataset):
    texts, labels = dataset
    model = train_model(texts=texts, labels=labels, algorithm="embeddings-linear")
    _assert_same_answers(model, texts + ODD_TEXTS[2:])


def test_the_compiled_model_goes_through_ml_prediction_with_identical_results(dataset):
    texts, labels = dataset
    model = train_model(texts=texts[:200], labels=labels[:200], algorithm="tfidf-linear")
    sample = texts[200:260]
    assert predict(compile_pipeline(model), sample) == predict(model, sample)


@pytest.mark.parametrize("algorithm", ["rules", "majority", "random"])
def test_models_that_are_not_calibrated_linear_ones_do_not_compile(dataset, algorithm):
    texts, labels = dataset
    assert compile_pipeline(train_model(texts=texts[:100], labels=labels[:100], algorithm=algorithm)) is None


def test_the_uncalibrated_fallback_and_unknown_steps_do_not_compile(dataset):
    texts, labels = dataset
    # A tag with one example makes ml.training fall back to an uncalibrated LogisticRegression.
    fallback = train_model(
        texts=texts[:100] + ["one odd item"], labels=labels[:100] + ["odd"], algorithm="tfidf-linear"
    )
    assert isinstance(fallback.named_steps["classifier"], LogisticRegression)
    assert compile_pipeline(fallback) is None

    class ShoutingVectorizer(CompactTfidfVectorizer):
        def transform(self, raw_documents):
            return super().transform([text.upper() for text in raw_documents])

    odd = Pipeline(
        [("features", ShoutingVectorizer()), ("classifier", CalibratedClassifierCV(LinearSVC(random_state=0), cv=3))]
    ).fit(texts, labels)
    assert compile_pipeline(odd) is None


def test_a_single_string_is_refused_rather_than_read_as_characters(dataset):
    texts, labels = dataset
    compiled = compile_pipeline(train_model(texts=texts[:100], labels=labels[:100], algorithm="tfidf-linear"))
    with pytest.raises(ValueError):
        compiled.predict_proba("a text")


def test_char_ngrams_made_word_by_word_are_the_analyzers_terms_in_its_order(dataset):
    # The compiled path makes a text's char_wb n-grams per distinct word and keeps each word's;
    # the terms, their order (the sums' order) and their count must be the analyzer's own.
    from ml.compiled import _term_columns

    texts, _ = dataset
    vectorizer = CompactTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    vectorizer.fit(texts[:200])
    analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    odd = [
        "Tabs\tand\nnew lines",
        "no-break\u00a0space",
        "Ünïcödé ÀCCENTS",
        "x",
        "  lead and trail  ",
        "\u2003em space",
    ]
    columns_of = _term_columns(vectorizer)
    for text in texts + ODD_TEXTS + odd + texts[:50]:  # the last ones again: words already kept
        assert list(columns_of(text)) == [vocabulary.get(term) for term in analyze(text)], text
