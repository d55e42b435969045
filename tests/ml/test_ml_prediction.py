import pytest

from ml.items import PredictionResult
from ml.prediction import predict
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
