"""make bench-size's report: the table as measured, and the budget's verdict from the default install's row."""

from benchmarks.bench_install_size import report

PROOF = {"check": "passed", "backend": "onnx-int8", "train_items": 611, "test_items": 153}
PROOF |= {"train_s": 7.6, "predict_s": 3.1, "weighted_f1": 0.92}


def _report(default_mb: int) -> str:
    sizes = {"`main`: make install": 732, "this branch: make install (the default)": default_mb, "+ formats": 610}
    return report(sizes, [("scipy", 83), ("onnxruntime", 63)], PROOF, command="python -m x", loads=["1.0", "2.0"])


def test_the_budget_is_judged_on_the_default_install_row():
    met = _report(399)
    assert "| this branch: make install (the default) | 399 |" in met and "| `main`: make install | 732 |" in met
    assert "at most 400 MB: 399 MB, met (1 MB to spare)" in met
    assert "at most 400 MB: 405 MB, **missed** (-5 MB to spare)" in _report(405)
    assert "scipy 83, onnxruntime 63" in met and "weighted F1 0.92" in met and "load average 1.0 / 2.0" in met
