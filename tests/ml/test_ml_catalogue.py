"""ml.catalogue names the algorithms without importing them, and names them all."""

import subprocess
import sys
from pathlib import Path

from ml import catalogue
from ml.algorithms import ALGORITHMS

REPO = Path(__file__).resolve().parents[2]


def test_the_catalogue_lists_exactly_the_algorithms_there_are():
    assert catalogue.ALGORITHM_NAMES == tuple(ALGORITHMS)
    assert catalogue.DEFAULT_ALGORITHM in ALGORITHMS
    assert catalogue.NEEDS_EMBEDDINGS <= set(ALGORITHMS) and catalogue.BASELINES <= set(ALGORITHMS)


def test_reading_the_catalogue_imports_no_scientific_library():
    code = (
        "import sys, ml.catalogue as c; c.embeddings_available(); "
        "print(sorted(m for m in ('numpy', 'scipy', 'sklearn', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
