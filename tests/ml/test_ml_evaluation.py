"""Evaluation on a tiny example whose numbers were worked out by hand.

true: cv   cv   cv   nlp  nlp  mlops
pred: cv   cv   nlp  nlp  nlp  cv

cv:    TP 2, predicted 3, support 3 -> P 2/3, R 2/3, F1 2/3
nlp:   TP 2, predicted 3, support 2 -> P 2/3, R 1,   F1 0.8
mlops: TP 0, predicted 0, support 1 -> P 0 (0/0), R 0, F1 0
other: absent everywhere           -> 0, 0, 0, support 0
weighted P = (3*2/3 + 2*2/3 + 0) / 6 = 0.5556
weighted R = (3*2/3 + 2*1   + 0) / 6 = 0.6667
weighted F1 = (3*2/3 + 2*0.8 + 0) / 6 = 0.6
accuracy = 4/6
"""

import json

import pytest

from ml.evaluation import evaluate
from ml.items import LabelledItem, PredictionResult

CV, NLP, OPS, OTHER = "computer-vision", "natural-language-processing", "mlops", "other"
LABELS = [CV, NLP, OPS, OTHER]
LONG = "with enough words in the description to not be short"

ITEMS = [
    LabelledItem("Cats detected", LONG, CV),
    LabelledItem("Dogs segmented", LONG, CV),
    LabelledItem("Birds tracked", LONG, CV),
    LabelledItem("Fine-tuning BERT", LONG, NLP),  # nlp_llm
    LabelledItem("Parsing poems", LONG, NLP),
    LabelledItem("MLflow tips", "", OPS),  # short_text
]
PREDICTED = [CV, CV, NLP, NLP, NLP, CV]


def prediction(tag: str) -> PredictionResult:
    probabilities = {label: (0.7 if label == tag else 0.1) for label in LABELS}
    return PredictionResult(tag=tag, probabilities=probabilities, confidence=0.7)


@pytest.fixture
def report():
    return evaluate(items=ITEMS, predictions=[prediction(t) for t in PREDICTED], labels=LABELS)


def test_overall_weighted_metrics(report):
    assert report["n"] == 6
    assert report["overall"] == {"precision": 0.5556, "recall": 0.6667, "f1": 0.6, "accuracy": 0.6667}


def test_per_class_metrics_include_absent_labels(report):
    assert report["per_class"] == {
        CV: {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667, "support": 3},
        NLP: {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2},
        OPS: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
        OTHER: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0},
    }


def test_confusion_matrix_rows_are_true_columns_predicted(report):
    assert report["confusion_matrix"] == {
        "labels": LABELS,
        "matrix": [[2, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]],
    }


def test_registered_slices(report):
    assert report["slices"]["nlp_llm"] == {"n": 1, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert report["slices"]["short_text"] == {"n": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_custom_and_empty_slices():
    slices = {"true_cv": lambda item: item.tag == CV, "nothing": lambda item: False}
    report = evaluate(items=ITEMS, predictions=[prediction(t) for t in PREDICTED], labels=LABELS, slices=slices)
    # cv items: 2 of 3 right, nothing wrongly called cv -> P 1, R 2/3, F1 0.8
    assert report["slices"] == {
        "true_cv": {"n": 3, "precision": 1.0, "recall": 0.6667, "f1": 0.8},
        "nothing": {"n": 0, "precision": None, "recall": None, "f1": None},
    }


def test_result_is_json_serialisable(report):
    assert json.loads(json.dumps(report)) == report


def test_no_items_gives_empty_but_well_formed_report():
    report = evaluate(items=[], predictions=[], labels=LABELS)
    assert report["n"] == 0 and report["overall"]["f1"] is None
    assert report["per_class"][CV]["support"] == 0
    assert report["confusion_matrix"]["matrix"] == [[0] * 4 for _ in range(4)]
    assert report["slices"]["short_text"]["n"] == 0


def test_misaligned_inputs_are_rejected():
    with pytest.raises(ValueError, match="6 items but 5 predictions"):
        evaluate(items=ITEMS, predictions=[prediction(t) for t in PREDICTED[:5]], labels=LABELS)


def test_tags_outside_the_label_set_are_rejected():
    with pytest.raises(ValueError, match="not in the label set: mlops"):
        evaluate(items=ITEMS, predictions=[prediction(t) for t in PREDICTED], labels=[CV, NLP, OTHER])


def test_new_sections_sit_beside_the_old_keys(report):
    assert {"n", "overall", "per_class", "confusion_matrix", "slices"} <= set(report)
    assert {"intervals", "calibration", "operating_point"} <= set(report)


def test_intervals_bracket_the_reported_metrics(report):
    for metric in ("precision", "recall", "f1"):
        low, high = report["intervals"]["overall"][metric]
        assert low <= report["overall"][metric] <= high
        for label in LABELS:
            low, high = report["intervals"]["per_class"][label][metric]
            assert low <= report["per_class"][label][metric] <= high


def test_calibration_of_the_example(report):
    # Every prediction at 0.7 confidence, 4 of 6 right: gap |0.7 - 0.6667|.
    assert report["calibration"]["ece"] == pytest.approx(0.0333, abs=1e-4)
    [busy] = [b for b in report["calibration"]["bins"] if b["count"]]
    assert busy == {"lower": 0.7, "upper": 0.8, "confidence": 0.7, "accuracy": 0.6667, "count": 6}


def test_operating_point_of_the_example(report):
    # One tie group at 0.7 with precision 4/6: 95% is out of reach, 60% is not.
    assert report["operating_point"] == {
        "threshold": None,
        "automation_rate": 0.0,
        "precision": None,
        "target_precision": 0.95,
    }
    lenient = evaluate(items=ITEMS, predictions=[prediction(t) for t in PREDICTED], labels=LABELS, target_precision=0.6)
    assert lenient["operating_point"]["automation_rate"] == 1.0
