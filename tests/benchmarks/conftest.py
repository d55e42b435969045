"""The benchmarks' tests read the same dataset as the ml tests."""

import pytest

from tests.ml.conftest import dataset_path


@pytest.fixture(scope="session")
def dataset_file():
    return dataset_path()
