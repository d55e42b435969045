"""benchmarks.bench_encoder_cuts: the variants it measures are what it says they are."""

import csv

import numpy as np
import pytest

from ml.catalogue import minilm_available

pytestmark = pytest.mark.skipif(not minilm_available(), reason="MiniLM weights not installed (requirements-minilm.txt)")


@pytest.fixture(scope="module")
def weights():
    from ml import minilm

    return minilm.read_safetensors(minilm.weights_path())


@pytest.fixture(scope="module")
def calibration():
    from benchmarks.bench_encoder_cuts import Calibration
    from ml import minilm_onnx

    texts = ["graph neural networks for molecules", "a tutorial on object detection with YOLO", "MLOps pipelines"]
    return Calibration(minilm_onnx.load_onnx_encoder("int8").token_ids(texts))


def test_keeping_every_unit_leaves_the_feed_forward_block_as_it_was(weights, calibration):
    from benchmarks.bench_encoder_cuts import INNER, pruned_feed_forward

    pruned = pruned_feed_forward(weights, INNER, calibration)
    for name, array in weights.items():
        np.testing.assert_array_equal(pruned[name], array)


def test_a_cut_block_keeps_the_units_that_carry_most_and_stands_in_for_the_rest_by_their_mean(weights, calibration):
    from benchmarks.bench_encoder_cuts import pruned_feed_forward

    pruned = pruned_feed_forward(weights, 768, calibration)
    prefix = "encoder.layer.0."
    up, down = pruned[prefix + "intermediate.dense.weight"], pruned[prefix + "output.dense.weight"]
    assert up.shape == (768, 384) and down.shape == (384, 768)
    mean, mean_square = calibration.moments(weights)[0]
    original_down = weights[prefix + "output.dense.weight"]
    share = mean_square * (original_down.astype(np.float64) ** 2).sum(axis=0)
    kept = np.sort(np.argsort(-share)[:768])
    np.testing.assert_array_equal(up, weights[prefix + "intermediate.dense.weight"][kept])
    left_out = np.setdiff1d(np.arange(1536), kept)
    assert share[kept].min() >= share[left_out].max()
    expected_bias = weights[prefix + "output.dense.bias"] + original_down[:, left_out] @ mean[left_out]
    np.testing.assert_allclose(pruned[prefix + "output.dense.bias"], expected_bias, rtol=1e-6, atol=1e-7)


def test_the_attention_without_its_mask_gives_the_shipped_vectors_one_text_at_a_time(dataset_file, tmp_path, capsys):
    from benchmarks.bench_encoder_cuts import main

    with dataset_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:20]
    small = tmp_path / "small.csv"
    with small.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    main(["--dataset", str(small), "--texts", "8", "--variants", "shipped", "no-mask", "--no-batches", "--no-f1"])
    printed = capsys.readouterr().out
    assert "word pieces per text" in printed and "QAttention" in printed  # the profile names the shipped kernels
    line = next(line for line in printed.splitlines() if line.strip().startswith("no-mask:"))
    assert line.endswith("max |vector - shipped's| 0.0e+00")
