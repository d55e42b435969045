"""The model-loading benchmark compares the shipped format with sklearn's on the same fitted model."""

import numpy as np
import skops.io

from benchmarks.bench_load import benchmark, format_table, with_plain_vectorizers
from ml.features import CompactTfidfVectorizer
from ml.training import train_model
from tests.tiny_dataset import LABELS as TAGS
from tests.tiny_dataset import TEXTS


def test_the_baseline_is_the_same_model_with_sklearns_vectorizer():
    model = train_model(texts=TEXTS, labels=TAGS, algorithm="tfidf-linear", random_state=0)
    plain = with_plain_vectorizers(model)
    steps = [step for _, step in plain.named_steps["features"].transformer_list]
    assert steps and not any(isinstance(step, CompactTfidfVectorizer) for step in steps)
    assert "ml.features.CompactTfidfVectorizer" not in skops.io.get_untrusted_types(data=skops.io.dumps(plain))
    np.testing.assert_array_equal(plain.predict_proba(["a video"]), model.predict_proba(["a video"]))
    # The shipped model is left as it was.
    assert all(isinstance(step, CompactTfidfVectorizer) for _, step in model.named_steps["features"].transformer_list)


def test_benchmark_times_both_artifacts_and_tabulates_the_ratio(tmp_path):
    row = benchmark("tfidf-linear", TEXTS, TAGS, loads=3, directory=tmp_path)
    assert row.shipped.median_ms > 0 and row.plain.median_ms > 0
    assert row.shipped.p99_ms >= row.shipped.median_ms
    assert row.ratio == row.shipped.median_ms / row.plain.median_ms
    assert f"| tfidf-linear | {row.shipped.median_ms:.0f} / " in format_table([row])
