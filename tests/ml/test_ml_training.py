import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from ml.training import train_model, training_data_hash
from tests.tiny_dataset import TEXTS as TINY_TEXTS

TEXTS = TINY_TEXTS[:8]  # tests.tiny_dataset's four computer-vision and four NLP texts
LABELS = ["cv"] * 4 + ["nlp"] * 4


def test_reports_increasing_progress_ending_at_100():
    calls = []
    train_model(
        texts=TEXTS,
        labels=LABELS,
        algorithm="tfidf-linear",
        progress=lambda percent, stage: calls.append((percent, stage)),
    )
    percents = [percent for percent, _ in calls]
    assert percents == sorted(percents) and percents[0] == 0 and percents[-1] == 100
    assert all(isinstance(stage, str) and stage for _, stage in calls)


@pytest.mark.parametrize(
    "labels,message",
    [
        (["cv"] * 8, "at least 2 distinct labels"),
        (["cv"] * 7, "8 texts but 7 labels"),
        (["cv"] * 4 + ["nlp"] * 3 + [""], "non-empty string"),
    ],
)
def test_rejects_unusable_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        train_model(texts=TEXTS, labels=labels, algorithm="tfidf-linear")


def test_rejects_all_empty_texts():
    with pytest.raises(ValueError, match="every text is empty"):
        train_model(texts=[""] * 8, labels=LABELS, algorithm="tfidf-linear")


def test_rejects_unknown_algorithm():
    with pytest.raises(ValueError, match="unknown algorithm"):
        train_model(texts=TEXTS, labels=LABELS, algorithm="nope")


def test_calibration_folds_shrink_to_the_rarest_class():
    labels = ["cv"] * 6 + ["nlp"] * 2
    model = train_model(texts=TEXTS, labels=labels, algorithm="tfidf-linear", random_state=3)
    cv = model.named_steps["classifier"].cv
    assert cv.get_n_splits() == 2 and cv.shuffle and cv.random_state == 3


def test_calibration_uses_five_folds_when_classes_allow():
    texts, labels = TEXTS * 2, LABELS * 2
    model = train_model(texts=texts, labels=labels, algorithm="tfidf-linear")
    assert model.named_steps["classifier"].cv.get_n_splits() == 5


def test_large_training_sets_calibrate_on_three_folds(monkeypatch):
    import ml.training
    from ml.algorithms import CALIBRATION_FOLDS_LARGE, LARGE_TRAINING_SET

    assert CALIBRATION_FOLDS_LARGE == 3 and LARGE_TRAINING_SET == 3_000
    texts, labels = TEXTS * 2, LABELS * 2
    monkeypatch.setattr(ml.training, "LARGE_TRAINING_SET", len(labels))
    model = train_model(texts=texts, labels=labels, algorithm="tfidf-linear", random_state=2)
    cv = model.named_steps["classifier"].cv
    assert cv.get_n_splits() == 3 and cv.shuffle and cv.random_state == 2
    monkeypatch.setattr(ml.training, "LARGE_TRAINING_SET", len(labels) + 1)
    assert (
        train_model(texts=texts, labels=labels, algorithm="tfidf-linear").named_steps["classifier"].cv.get_n_splits()
        == 5
    )


def test_calibration_folds_by_size_and_rarest_class():
    from ml.algorithms import tfidf_linear
    from ml.training import adapt_calibration

    def folds(**kwargs):
        return adapt_calibration(tfidf_linear(0), random_state=0, **kwargs).named_steps["classifier"].cv.get_n_splits()

    assert folds(smallest_class=100, n_items=2_999) == 5
    assert folds(smallest_class=100, n_items=3_000) == 3
    assert folds(smallest_class=2, n_items=10_000) == 2  # the rarest class still rules
    assert folds(smallest_class=100) == 5  # size unknown: as configured


def test_a_class_with_one_example_falls_back_to_an_uncalibrated_probabilistic_model():
    labels = ["cv"] * 7 + ["nlp"]
    model = train_model(texts=TEXTS, labels=labels, algorithm="tfidf-linear")
    assert isinstance(model.named_steps["classifier"], LogisticRegression)
    np.testing.assert_allclose(model.predict_proba(["anything"]).sum(), 1.0)


def test_same_random_state_gives_identical_models():
    first = train_model(texts=TEXTS, labels=LABELS, algorithm="tfidf-linear", random_state=1)
    second = train_model(texts=TEXTS, labels=LABELS, algorithm="tfidf-linear", random_state=1)
    probe = ["image text", "video language"]
    np.testing.assert_array_equal(first.predict_proba(probe), second.predict_proba(probe))


def test_training_data_hash_is_order_independent():
    pairs = [("1", "cv"), ("2", "nlp"), ("3", "mlops")]
    assert training_data_hash(pairs) == training_data_hash(reversed(pairs))
    assert training_data_hash(iter(pairs)) == training_data_hash(pairs)


def test_training_data_hash_is_label_and_key_sensitive():
    base = training_data_hash([("1", "cv"), ("2", "nlp")])
    assert training_data_hash([("1", "nlp"), ("2", "nlp")]) != base
    assert training_data_hash([("1", "cv"), ("3", "nlp")]) != base
    assert training_data_hash([("1", "cv")]) != base


def test_training_data_hash_cannot_be_fooled_by_separators():
    assert training_data_hash([("1", "a,b")]) != training_data_hash([("1,a", "b")])


def test_training_data_hash_is_sha256_hex():
    digest = training_data_hash([])
    assert len(digest) == 64 and int(digest, 16) >= 0
