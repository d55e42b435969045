import numpy as np
import pytest

from ml.dataset import read_dataset_rows
from ml.items import PredictionResult
from ml.prediction import DECIMALS, _as_results, _rows, predict
from ml.text import prepare_text
from ml.training import train_model

TEXTS = ["image detection", "image segmentation", "video frames", "text parsing", "language model", "translation task"]
CV, NLP = "computer-vision", "natural-language-processing"
LABELS = [CV] * 3 + [NLP] * 3


@pytest.fixture(scope="module")
def model():
    # The keyword model keeps these tests fast and their expectations obvious.
    return train_model(texts=TEXTS, labels=LABELS, algorithm="rules")


def test_one_result_per_text_in_order(model):
    results = predict(model, ["image of a cat", "text of a poem"])
    assert [r.tag for r in results] == [CV, NLP]
    assert all(isinstance(r, PredictionResult) for r in results)


def test_probabilities_cover_the_label_set_and_sum_to_one(model):
    [result] = predict(model, ["image text video"])
    assert set(result.probabilities) == {CV, NLP}
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert all(isinstance(p, float) for p in result.probabilities.values())


def test_tag_and_confidence_agree_with_probabilities(model):
    [result] = predict(model, ["an image"])
    assert result.confidence == max(result.probabilities.values())
    assert result.probabilities[result.tag] == result.confidence


def test_empty_input_gives_empty_output(model):
    assert predict(model, []) == []


def _results(probabilities, classes):
    """What predict() makes of a model's probabilities."""
    return _as_results(_rows(probabilities, [str(label) for label in classes]))


def _results_one_row_at_a_time(probabilities, classes):
    # ml.prediction's results as first written: numpy scalars turned into floats one by one.
    labels = [str(label) for label in classes]
    results = []
    for row in probabilities:
        best = int(np.argmax(row))
        values = {label: round(float(p), DECIMALS) for label, p in zip(labels, row)}
        results.append(
            PredictionResult(tag=labels[best], probabilities=values, confidence=round(float(row[best]), DECIMALS))
        )
    return results


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_results_are_those_of_one_row_at_a_time(dtype):
    rng = np.random.default_rng(18)
    rows = [
        *rng.dirichlet(np.ones(4), size=500),
        [0.25, 0.25, 0.25, 0.25],  # ties: the first maximum
        [0.1, 0.4, 0.4, 0.1],
        [1.0, 0.0, 0.0, 0.0],
        [0.0000005, 0.0000015, 0.4999995, 0.4999985],  # halves at the sixth decimal
        [5e-324, 1e-300, 1 - 1e-16, 0.0],
        [np.nan, 0.5, 0.5, 0.0],  # a NaN is argmax's first maximum
    ]
    probabilities = np.array(rows, dtype=dtype)
    classes = np.array(["b", "a", "d", "c"])
    # Compared as text: a NaN is not equal to itself.
    assert repr(_results(probabilities, classes)) == repr(_results_one_row_at_a_time(probabilities, classes))


def test_results_of_a_trained_model_on_the_dataset_are_those_of_one_row_at_a_time(dataset_file):
    rows = read_dataset_rows(dataset_file)
    texts = [prepare_text(r.item.title, r.item.description) for r in rows]
    model = train_model(texts=texts, labels=[r.item.tag for r in rows], algorithm="tfidf-linear")
    probabilities = model.predict_proba(texts)
    assert _results(probabilities, model.classes_) == _results_one_row_at_a_time(probabilities, model.classes_)


def test_rows_are_the_results_as_rows(model):
    from ml.prediction import predict_rows

    texts = ["image of a cat", "text of a poem", "image text video"]
    answers = predict_rows(model, texts)
    results = predict(model, texts)
    assert [answers.labels[k] for k in answers.best] == [r.tag for r in results]
    assert [dict(zip(answers.labels, row)) for row in answers.rows] == [r.probabilities for r in results]
    assert [row[k] for row, k in zip(answers.rows, answers.best)] == [r.confidence for r in results]
    assert predict_rows(model, []).rows == []


def test_rounding_the_array_at_once_gives_what_round_gives_for_every_value():
    from ml.prediction import _rounded

    rng = np.random.default_rng(6)
    halves = (rng.integers(0, 10**6, size=20000) + 0.5) / 10**6  # the nearest floats to x.xxxxxx5
    values = np.concatenate(
        [
            rng.random(200000),
            rng.dirichlet(np.ones(4), size=20000).ravel(),
            halves,
            np.nextafter(halves, 0.0),
            np.nextafter(halves, 1.0),
            rng.random(2000) * 1e-7,
            [0.0, -0.0, 1.0, 5e-324, 1e-300, 1 - 1e-16, 0.5, 0.0000005, 1.5, -0.25, 123456.7891234, 1e300],
            [np.nan, np.inf, -np.inf],
        ]
    )
    values = values[: len(values) // 4 * 4].reshape(-1, 4)
    expected = [[round(v, DECIMALS) for v in row] for row in values.tolist()]
    # As text: a NaN is not equal to itself, and -0.0 must stay -0.0.
    assert repr(_rounded(values)) == repr(expected)
    as_float32 = values[:50000].astype(np.float32)  # a model's output may come as float32
    assert repr(_rounded(as_float32)) == repr([[round(v, DECIMALS) for v in row] for row in as_float32.tolist()])
