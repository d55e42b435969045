import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import FunctionTransformer

from ml.features import SequentialFeatureUnion

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
