"""make bench-encoder: honest splits, and a section with one row per candidate."""

import csv

import numpy as np
import pytest

from benchmarks.bench_encoder import INSTALLS, installed_mb, main, splits
from ml.catalogue import minilm_available


def test_the_splits_are_the_time_split_its_reverse_and_five_folds():
    labels = np.array(["a", "b"] * 50)
    named = {name: (train, test) for name, train, test in splits(100, labels)}
    train, test = named["time"]
    assert train.max() < test.min() and (len(train), len(test)) == (80, 20)  # oldest 80% -> newest 20%
    train, test = named["reverse"]
    assert test.max() < train.min() and (len(train), len(test)) == (80, 20)
    folds = [named[f"cv{k}"][1] for k in range(5)]
    assert sorted(np.concatenate(folds).tolist()) == list(range(100))


@pytest.mark.skipif(not minilm_available(), reason="MiniLM weights not installed (requirements-minilm.txt)")
def test_the_default_installs_more_than_tfidf_alone_and_no_torch():
    tfidf, minilm = installed_mb(INSTALLS["tfidf-linear"]), installed_mb(INSTALLS["minilm-linear"])
    assert tfidf is not None and minilm is not None
    # onnxruntime (~63 MB) and tokenizers (~12 MB), nothing else: the weights are only in the build step.
    assert 60 < minilm - tfidf < 100


@pytest.fixture
def small(dataset_file, tmp_path):
    """The dataset's first 100 rows: its newest 20 are what the encoder table times."""
    with dataset_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:100]
    path = tmp_path / "small.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_bench_writes_its_section_with_a_row_per_candidate(small, tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Other\n\nkept\n", encoding="utf-8")
    main(["--dataset", str(small), "--only", "tfidf-linear", "--docs", str(docs)])
    text = docs.read_text(encoding="utf-8")
    assert "## Other\n\nkept" in text and "## Encoders" in text
    row = next(line for line in text.splitlines() if line.startswith("| tfidf-linear |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert len(cells) == 9 and all(cell for cell in cells)
    assert 0 < float(cells[1]) <= 1 and "±" in cells[3]
    assert "The encoder alone" not in text  # minilm-linear was not asked for


@pytest.mark.skipif(not minilm_available(), reason="MiniLM weights not installed (requirements-minilm.txt)")
def test_the_encoder_table_compares_each_backend_with_the_numpy_reference(small, tmp_path):
    from ml.minilm_onnx import onnx_available

    if not onnx_available():
        pytest.skip("onnxruntime not installed")
    docs = tmp_path / "benchmarks.md"
    main(["--dataset", str(small), "--encoders-only", "--docs", str(docs)])
    rows = {}
    for line in docs.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 9 and cells[1].isdigit():
            rows[(cells[0], int(cells[1]))] = cells
    graph2 = ("onnx int8, graph 2 (standard attention, every fusion)", 1)
    assert set(rows) == {
        ("numpy fp32", 1),
        ("onnx fp32", 1),
        ("onnx fp32", 2),
        ("onnx int8", 1),
        ("onnx int8", 2),
        graph2,
    }
    assert rows[("numpy fp32", 1)][3] == "1.00"  # the reference's own ratio
    assert float(rows[("onnx fp32", 1)][7]) < 1e-5  # the same vectors
    assert 0.97 <= float(rows[("onnx int8", 1)][8]) < 1  # close, not equal
    assert 0.97 <= float(rows[graph2][8]) < 1  # the baseline is the int8 encoder too, not fp32 under its name
