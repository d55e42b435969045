import copy
import pickle

import numpy as np
import pytest
import skops.io
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import FunctionTransformer

from ml.features import CompactTfidfVectorizer, SequentialFeatureUnion
from ml.persistence import load_model, save_model

TEXTS = ["image of a cat", "text about words", "deploy the server", "a photo and a sentence"]


def parts():
    return [("word", TfidfVectorizer()), ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)))]


@pytest.mark.parametrize("weights", [None, {"word": 2.0}])
def test_same_output_as_feature_union(weights):
    ours = SequentialFeatureUnion(parts(), transformer_weights=weights).fit(TEXTS)
    theirs = FeatureUnion(parts(), transformer_weights=weights).fit(TEXTS)
    probe = ["a cat image", "unseen words entirely"]
    np.testing.assert_allclose(ours.transform(probe).toarray(), theirs.transform(probe).toarray())
    assert ours.transform(probe).format == "csr"


def test_dropped_parts_and_dense_parts():
    dense = FunctionTransformer(lambda texts: np.array([[len(t)] for t in texts], dtype=float))
    union = SequentialFeatureUnion([("length", dense), ("gone", "drop")]).fit(TEXTS)
    np.testing.assert_array_equal(union.transform(["abc"]), [[3.0]])


def test_passthrough_falls_back_to_the_inherited_path():
    union = SequentialFeatureUnion([("same", "passthrough")]).fit(np.ones((2, 2)))
    np.testing.assert_array_equal(union.transform(np.ones((1, 2))), [[1.0, 1.0]])


def fitted_compact(**params):
    return CompactTfidfVectorizer(**params).fit(TEXTS + ["naïve café, ünïcode", "tabs\tand  spaces"])


@pytest.mark.parametrize("params", [{}, {"analyzer": "char_wb", "ngram_range": (2, 5)}])
def test_compact_vocabulary_is_saved_as_one_array_and_rebuilt_exactly(params):
    vectorizer = fitted_compact(**params)
    state = vectorizer.__getstate__()
    assert "vocabulary_" not in state and isinstance(state["vocabulary_terms_"], np.ndarray)
    assert "vocabulary_" in vars(vectorizer)  # saving leaves the live object whole
    for copied in (
        pickle.loads(pickle.dumps(vectorizer)),
        copy.deepcopy(vectorizer),
        skops.io.loads(skops.io.dumps(vectorizer), trusted=["ml.features.CompactTfidfVectorizer"]),
    ):
        assert copied.vocabulary_ == vectorizer.vocabulary_
        probe = ["a photo of words", "café"]
        np.testing.assert_array_equal(copied.transform(probe).toarray(), vectorizer.transform(probe).toarray())


def test_a_vocabulary_an_array_cannot_hold_is_kept_as_a_dict():
    with_nul = fitted_compact()
    with_nul.vocabulary_ = {"ok": 0, "ends with nul\0": 1}
    gapped = fitted_compact()
    gapped.vocabulary_ = {"a": 0, "b": 2}
    for vectorizer in (with_nul, gapped):
        saved_vocabulary = vectorizer.vocabulary_
        assert "vocabulary_terms_" not in vectorizer.__getstate__()
        assert pickle.loads(pickle.dumps(vectorizer)).vocabulary_ == saved_vocabulary


def test_artifacts_with_a_plain_tfidf_vectorizer_still_load(tmp_path):
    # Models saved before CompactTfidfVectorizer hold sklearn's own vectorizer.
    plain = TfidfVectorizer().fit(TEXTS)
    saved = save_model(plain, directory=tmp_path, name="plain", metadata={})
    assert load_model(saved.path).vocabulary_ == plain.vocabulary_
