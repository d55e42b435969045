"""skops is imported on first use, and without torch, trusting exactly the same types."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

TRUSTED_NAMES = (
    "from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES as names; "
    "import json; print(json.dumps(sorted(names)))"
)


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.embeddings
def test_hiding_torch_leaves_skops_trusting_the_same_scikit_learn_types():
    plain = json.loads(_run("import skops.io; " + TRUSTED_NAMES))
    lazy = json.loads(
        _run(
            "import sys; from ml.lazy import skops_io; skops_io(); assert 'torch' not in sys.modules; " + TRUSTED_NAMES
        )
    )
    assert len(plain) > 100 and lazy == plain


@pytest.mark.embeddings
def test_a_model_loads_without_torch_and_an_embeddings_model_still_encodes_afterwards(dataset_file):
    code = f"""
import sys
from ml.dataset import read_labelled_csv
from ml.persistence import model_from_bytes, model_to_bytes
from ml.text import prepare_text
from ml.training import train_model
items = read_labelled_csv({str(dataset_file)!r})[:80]
texts, labels = [prepare_text(i.title, i.description) for i in items], [i.tag for i in items]
tfidf = model_from_bytes(model_to_bytes(train_model(texts=texts, labels=labels, algorithm="tfidf-linear")))
tfidf.predict_proba(texts[:2])
before = 'torch' in sys.modules
embedder = model_from_bytes(model_to_bytes(train_model(texts=texts, labels=labels, algorithm="embeddings-linear")))
print(before, 'torch' in sys.modules, embedder.predict_proba(texts[:2]).shape)
"""
    assert _run(code) == "False True (2, 4)"


def test_importing_persistence_imports_no_scientific_library():
    out = _run(
        "import sys, ml.persistence, ml.prediction, ml.evaluation, ml.paired, ml.agreement; "
        "print(sorted(m for m in ('numpy', 'scipy', 'sklearn', 'skops.io', 'torch') if m in sys.modules))"
    )
    assert out == "['numpy']"
