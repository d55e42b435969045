"""A model's serving form (arrays and JSON) answers as scikit-learn does, and loads without scikit-learn."""

import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from ml.compiled import CompiledLinear, compile_pipeline, serving_form_bytes
from ml.dataset import read_labelled_csv
from ml.features import CompactTfidfVectorizer
from ml.persistence import model_from_bytes, model_to_bytes
from ml.serving_form import ServingFormError, load_serving_form
from ml.text import prepare_text
from ml.training import train_model
from tests.ml.conftest import REPO

TOLERANCE = 1e-6
ODD_TEXTS = [
    "",
    " ",
    "zzqx vvkw",
    "a",
    "日本語のテキスト 画像認識",
    "pytorch   pytorch pytorch",
    "c++ / c# ---",
    "A\tB\n\nc",
]


@pytest.fixture(scope="module")
def dataset(dataset_file):
    items = read_labelled_csv(dataset_file)
    return [prepare_text(item.title, item.description) for item in items], [item.tag for item in items]


@pytest.fixture(scope="module")
def tfidf_linear(dataset):
    texts, labels = dataset
    return train_model(texts=texts, labels=labels, algorithm="tfidf-linear")


def _assert_same_answers(model, texts):
    payload = serving_form_bytes(model)
    assert payload is not None
    served = load_serving_form(payload)
    assert isinstance(served, CompiledLinear)
    expected = model.predict_proba(texts)
    actual = np.vstack([served.predict_proba([text]) for text in texts])  # one text per call, as served
    worst = np.abs(actual - expected).max()
    assert worst <= TOLERANCE, f"largest difference {worst:.2e}"
    assert list(served.classes_) == list(model.classes_)
    assert (actual.argmax(axis=1) == expected.argmax(axis=1)).all()
    return payload


def test_tfidf_linear_served_from_its_serving_form_equals_sklearn_on_every_item_of_the_dataset(dataset, tfidf_linear):
    texts, _ = dataset
    _assert_same_answers(tfidf_linear, texts + ODD_TEXTS)
    # The same model as the compiled pipeline, to the bit: one formula, the same arithmetic order.
    compiled = compile_pipeline(tfidf_linear)
    served = load_serving_form(serving_form_bytes(tfidf_linear))
    for text in texts[:200] + ODD_TEXTS:
        assert (served.predict_proba([text]) == compiled.predict_proba([text])).all()


def test_a_loaded_artifact_gives_the_same_serving_form(dataset, tfidf_linear):
    texts, _ = dataset
    loaded = model_from_bytes(model_to_bytes(tfidf_linear))
    assert serving_form_bytes(loaded) == serving_form_bytes(tfidf_linear)


def test_word_ngrams_case_kept_isotonic_calibration_and_averaged_classifiers_equal_sklearn(dataset):
    texts, labels = dataset
    model = Pipeline(
        [
            ("features", CompactTfidfVectorizer(analyzer="word", ngram_range=(1, 3), lowercase=False, norm="l1")),
            ("classifier", CalibratedClassifierCV(LinearSVC(random_state=0), method="isotonic", cv=3, ensemble=True)),
        ]
    ).fit(texts, labels)
    _assert_same_answers(model, texts + ODD_TEXTS)


def test_two_classes_and_char_ngrams_from_three_equal_sklearn(dataset):
    texts, labels = dataset
    binary = ["computer-vision" if label == "computer-vision" else "rest" for label in labels]
    model = Pipeline(
        [
            ("features", CompactTfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), binary=True, use_idf=False)),
            ("classifier", CalibratedClassifierCV(LinearSVC(random_state=0), method="sigmoid", cv=3, ensemble=False)),
        ]
    ).fit(texts[:400], binary[:400])
    _assert_same_answers(model, texts + ODD_TEXTS)


@pytest.mark.parametrize(
    "features",
    [
        CompactTfidfVectorizer(analyzer="word", stop_words="english"),
        CompactTfidfVectorizer(analyzer="char_wb", strip_accents="unicode"),
        CompactTfidfVectorizer(analyzer="char", ngram_range=(2, 3)),
    ],
)
def test_settings_the_serving_form_does_not_reimplement_give_none(dataset, features):
    texts, labels = dataset
    model = Pipeline(
        [("features", features), ("classifier", CalibratedClassifierCV(LinearSVC(random_state=0), cv=3))]
    ).fit(texts[:300], labels[:300])
    assert serving_form_bytes(model) is None


def test_a_model_it_does_not_compile_has_none(dataset):
    texts, labels = dataset
    assert serving_form_bytes(train_model(texts=texts[:100], labels=labels[:100], algorithm="rules")) is None


def test_bytes_that_are_not_a_serving_form_are_refused(tfidf_linear):
    with pytest.raises(ServingFormError):
        load_serving_form(b"not a zip at all")
    # An object array would need pickle to load: refused, never unpickled.
    buffer = io.BytesIO()
    spec = json.dumps({"format": 1}).encode()
    np.savez(buffer, spec=np.frombuffer(spec, dtype=np.uint8), evil=np.array([object()], dtype=object))
    with pytest.raises(ServingFormError):
        load_serving_form(buffer.getvalue())
    # Another format, or arrays of the wrong shape.
    with np.load(io.BytesIO(serving_form_bytes(tfidf_linear)), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    other = json.loads(arrays["spec"].tobytes())
    for spec, changed in (
        ({**other, "format": 2}, {}),
        (other, {"classifier0_coef_t": arrays["classifier0_coef_t"][1:]}),
    ):
        buffer = io.BytesIO()
        np.savez(buffer, **{**arrays, **changed, "spec": np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8)})
        with pytest.raises(ServingFormError):
            load_serving_form(buffer.getvalue())


def test_a_fresh_interpreter_serves_it_without_scikit_learn_scipy_pandas_or_skops(tmp_path, dataset, tfidf_linear):
    texts, _ = dataset
    path = tmp_path / "model.serving.npz"
    path.write_bytes(serving_form_bytes(tfidf_linear))
    expected = tfidf_linear.predict_proba(texts[:20])
    code = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from ml.serving_form import load_serving_form
        served = load_serving_form(Path({str(path)!r}).read_bytes())
        rows = [served.predict_proba([text])[0].tolist() for text in {texts[:20]!r}]
        heavy = [name for name in ("sklearn", "scipy", "pandas", "skops") if name in sys.modules]
        print(json.dumps({{"rows": rows, "heavy": heavy}}))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["heavy"] == []
    assert np.abs(np.array(found["rows"]) - expected).max() <= TOLERANCE


@pytest.mark.minilm
def test_minilm_linear_served_from_its_serving_form_equals_sklearn(dataset):
    from ml.embeddings import clear_embedding_cache

    texts, labels = dataset
    texts, labels = texts[:160], labels[:160]
    model = train_model(texts=texts, labels=labels, algorithm="minilm-linear")
    clear_embedding_cache()  # the served path encodes afresh
    _assert_same_answers(model, texts + ODD_TEXTS)
