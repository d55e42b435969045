"""The lean-predict benchmark times both forms and reports their agreement."""

from benchmarks.bench_lean import measure, report
from ml.dataset import read_labelled_csv
from ml.text import prepare_text


def test_measure_times_both_forms_and_the_report_has_a_row_per_algorithm(dataset_file):
    items = read_labelled_csv(dataset_file)[:120]
    texts = [prepare_text(item.title, item.description) for item in items]
    row = measure("tfidf-linear", texts, [item.tag for item in items], passes=1)
    assert row.calls == len(texts)
    assert row.max_difference <= 1e-6
    assert 0 < row.compiled_ms[0] <= row.compiled_ms[1] and 0 < row.pipeline_ms[0] <= row.pipeline_ms[1]
    text = report([row], command="python -m benchmarks.bench_lean", load_before="1.0", skipped=["embeddings-linear"])
    assert "| tfidf-linear | 120 |" in text and "load average 1.0 before" in text
    assert "Not measured (optional packages missing): embeddings-linear." in text
