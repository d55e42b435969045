"""Where the int8 MiniLM encoder's CPU goes, and what cutting it would cost in F1 (issue 18).

    python -m benchmarks.bench_encoder_cuts [--texts 300] [--variants SPEC ...] [--gate SPEC ...]
        [--no-profile] [--no-batches] [--no-f1]

Prints, on the Made With ML dataset ordered by ``created_on``:

- the texts' lengths in word pieces (what the encoder's cost follows: one text per run, no padding);
- ONNX Runtime's profile of the shipped int8 graph by operator type (kernel time per text);
- the CPU time per text (``time.process_time``, the session's run alone) of graph variants, interleaved
  text by text over the oldest texts, as a ratio to the shipped graph measured in the same loop;
- the CPU per text of the shipped graph at batches of 1-8 texts drawn at random (as concurrent requests
  would meet in a worker): what batching could save if a text's vector did not depend on its neighbours;
- for variants that change the vectors, weighted F1 of minilm-linear (its own classifier, retrained) by
  5-fold CV on the oldest 80% only (where a cut is chosen, never the newest slice), beside the shipped graph.

``--gate SPEC`` then measures the chosen variant as ``benchmarks.bench_encoder`` measures the default
(time split oldest 80% -> newest 20%, the reverse, 5-fold CV on everything), beside the shipped graph.
Run it once for a cut chosen beforehand: the newest slice only ever tests.

Variant specs (built from the packaged weights, quantised as the shipped graph, kept in a temporary folder):

- ``shipped``: the int8 graph the setting serves (``ml.minilm_onnx.graph_file``);
- ``no-mask``: each layer's Attention without the padding mask (int8 runs one text, so nothing is padded;
  the same vectors);
- ``tanh-gelu``: ONNX Runtime's FastGelu (tanh approximation) in place of the exact erf GELU;
- ``layers=0,1,2,3,4``: only these transformer layers, in order (a shorter network);
- ``ffn=768``: every layer's feed-forward block cut to the 768 of its 1,536 inner units that carry most
  of its output (mean square activation x the unit's output weights' square norm, over the oldest 80%'s
  tokens, no labels), the mean output of the units left out added to the block's bias.

Nothing here is used by tagloop itself; the graph builder's private helpers are borrowed to write the
variants.
"""

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from benchmarks.bench_encoder import f1_figures, minilm_backend
from benchmarks.common import argument_parser, command_line, utc_minute
from benchmarks.machine import cpu_model, load_average
from ml import minilm, minilm_graph, minilm_onnx
from ml.dataset import read_dataset_rows
from ml.text import prepare_text

MODULE = "benchmarks.bench_encoder_cuts"
DEFAULT_VARIANTS = (
    "shipped",
    "no-mask",
    "tanh-gelu",
    "layers=0,1,2,3,4",
    "layers=0,1,2,3",
    "layers=0,1,3,4,5",
    "layers=0,2,4,5",
    "ffn=1024",
    "ffn=768",
)
BATCH_SIZES = (1, 2, 3, 4, 8)
INNER = 1536  # the feed-forward block's inner width in all-MiniLM-L6-v2


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    print(f"`{command_line(MODULE, argv)}`, {utc_minute()}, {cpu_model()}, load {load_average()}", flush=True)
    rows = sorted(read_dataset_rows(args.dataset), key=lambda row: row.created_on)
    texts = [prepare_text(row.item.title, row.item.description) for row in rows]
    labels = np.asarray([row.item.tag for row in rows])
    ids = minilm_onnx.load_onnx_encoder("int8").token_ids(texts)
    print(_lengths_line(ids), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        calibration = Calibration(ids[: int(len(ids) * 0.8)])
        specs = list(dict.fromkeys(["shipped", *args.variants, *args.gate]))
        graphs = {spec: build_variant(spec, calibration, Path(folder)) for spec in specs}
        _print_costs(args, graphs, ids)
        # minilm-linear learns from int8 vectors, as the default setting trains it.
        with minilm_backend("onnx-int8"):
            _print_f1(args, graphs, texts, labels)
    print(f"load after: {load_average()}")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argument_parser(MODULE, (__doc__ or "").splitlines()[0])
    parser.add_argument("--texts", type=int, default=300, help="oldest texts timed per variant")
    parser.add_argument("--variants", nargs="*", default=list(DEFAULT_VARIANTS))
    parser.add_argument("--gate", nargs="*", default=[], help="variants measured as bench_encoder measures F1")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-batches", action="store_true")
    parser.add_argument("--no-f1", action="store_true")
    return parser.parse_args(argv)


def _print_costs(args: argparse.Namespace, graphs: dict[str, Path], ids: list[list[int]]) -> None:
    if not args.no_profile:
        print(_profile_lines(graphs["shipped"], ids[: args.texts]), flush=True)
    print(_cpu_lines(graphs, ids[: args.texts], args.variants), flush=True)
    if not args.no_batches:
        print(_batch_lines(graphs["shipped"], ids), flush=True)


def _print_f1(args: argparse.Namespace, graphs: dict[str, Path], texts: list[str], labels: np.ndarray) -> None:
    if not args.no_f1:
        for spec in args.variants:
            print(_cv_line(spec, graphs[spec], texts, labels), flush=True)
    for spec in args.gate:
        for name in ("shipped", spec):
            print(_gate_line(name, graphs[name], texts, labels), flush=True)


# Graph variants -----------------------------------------------------------------------------------


class Calibration:
    """The oldest 80%'s token ids, and the feed-forward units' moments over them, computed at most once."""

    def __init__(self, ids: list[list[int]]):
        self.ids = ids
        self._moments: list[tuple[np.ndarray, np.ndarray]] | None = None

    def moments(self, weights: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        if self._moments is None:
            self._moments = _inner_moments(weights, self.ids)
        return self._moments


def build_variant(spec: str, calibration: Calibration, folder: Path) -> Path:
    """The int8 graph file of ``spec`` in ``folder`` (the shipped file itself for ``shipped``)."""
    if spec == "shipped":
        return minilm_onnx.graph_file("int8")
    weights = minilm.read_safetensors(minilm.weights_path())
    layers = list(range(_layer_count(weights)))
    attention, gelu = "masked", "erf"
    if spec == "no-mask":
        attention = "unmasked"
    elif spec == "tanh-gelu":
        gelu = "tanh"
    elif spec.startswith("layers="):
        layers = [int(part) for part in spec.removeprefix("layers=").split(",")]
    elif spec.startswith("ffn="):
        weights = pruned_feed_forward(weights, int(spec.removeprefix("ffn=")), calibration)
    else:
        raise SystemExit(f"unknown variant {spec!r}")
    fp32 = folder / "fp32.onnx"
    target = folder / f"{spec.replace('=', '-').replace(',', '')}-int8.onnx"
    fp32.write_bytes(_graph(weights, layers, attention=attention, gelu=gelu).SerializeToString())
    minilm_onnx._quantise(fp32, target)
    fp32.unlink()
    return target


def _graph(weights: dict[str, np.ndarray], layers: Sequence[int], *, attention: str, gelu: str) -> Any:
    """ml.minilm_graph's network with the given layers, attention mask and GELU."""
    from onnx import TensorProto, helper

    g = minilm_graph._Graph()
    hidden = minilm_graph._embeddings(g, weights)
    attend = minilm_graph._fused_attention(g) if attention == "masked" else _unmasked_attention(g)
    exact_gelu = minilm_graph._gelu
    if gelu == "tanh":
        minilm_graph._gelu = lambda graph, x: graph.op("FastGelu", x, domain=minilm_graph.MS_DOMAIN)  # type: ignore[assignment]
    try:
        for index in layers:
            hidden = minilm_graph._layer(g, weights, f"encoder.layer.{index}.", hidden, attend, index)
    finally:
        minilm_graph._gelu = exact_gelu
    g.nodes.append(helper.make_node("Identity", [minilm_graph._mean_pool_unit(g, hidden)], ["embedding"]))
    graph = helper.make_graph(
        g.nodes,
        "variant",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", minilm_graph.HIDDEN])],
        g.initializers,
    )
    opsets = [helper.make_opsetid("", minilm_graph.OPSET), helper.make_opsetid(minilm_graph.MS_DOMAIN, 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return model


def _unmasked_attention(g: Any) -> Any:
    def attend(x: str, qkv_weight: np.ndarray, qkv_bias: np.ndarray, name: str) -> str:
        weight = g.constant(f"{name}.qkv.weight", qkv_weight.astype(np.float32))
        bias = g.constant(f"{name}.qkv.bias", qkv_bias.astype(np.float32))
        return str(g.op("Attention", x, weight, bias, domain=minilm_graph.MS_DOMAIN, num_heads=minilm_graph.HEADS))

    return attend


def _layer_count(weights: dict[str, np.ndarray]) -> int:
    return len({name.split(".")[2] for name in weights if name.startswith("encoder.layer.")})


def pruned_feed_forward(weights: dict[str, np.ndarray], keep: int, calibration: Calibration) -> dict[str, np.ndarray]:
    """Every layer's feed-forward block cut to ``keep`` inner units, chosen on the calibration texts (no labels).

    A unit's share of the block's output is its mean square activation times its output weights' square
    norm; the units left out are replaced by their mean output, added to the block's bias.
    """
    moments = calibration.moments(weights)
    pruned = dict(weights)
    for index, (mean, mean_square) in enumerate(moments):
        prefix = f"encoder.layer.{index}."
        up, up_bias = weights[prefix + "intermediate.dense.weight"], weights[prefix + "intermediate.dense.bias"]
        down, down_bias = weights[prefix + "output.dense.weight"], weights[prefix + "output.dense.bias"]
        share = mean_square * (down.astype(np.float64) ** 2).sum(axis=0)
        kept = np.sort(np.argsort(-share)[:keep])
        left_out = np.setdiff1d(np.arange(up.shape[0]), kept)
        pruned[prefix + "intermediate.dense.weight"] = up[kept]
        pruned[prefix + "intermediate.dense.bias"] = up_bias[kept]
        pruned[prefix + "output.dense.weight"] = np.ascontiguousarray(down[:, kept])
        pruned[prefix + "output.dense.bias"] = (down_bias + down[:, left_out] @ mean[left_out]).astype(np.float32)
    return pruned


def _inner_moments(weights: dict[str, np.ndarray], texts: list[list[int]]) -> list[tuple[np.ndarray, np.ndarray]]:
    embeddings = minilm._EmbeddingLayer(weights)
    layers = [minilm._Layer(weights, f"encoder.layer.{i}.") for i in range(_layer_count(weights))]
    sums = [np.zeros(INNER) for _ in layers]
    squares = [np.zeros(INNER) for _ in layers]
    tokens = 0
    for ids in texts:
        batch, mask = minilm.padded_batch([ids])
        key_bias = ((1.0 - mask) * np.float32(-1e4))[:, None, None, :]
        x = embeddings(batch).reshape(len(ids), minilm.HIDDEN)
        for k, layer in enumerate(layers):
            inner = _inner(layer, x, key_bias)
            sums[k] += inner.sum(axis=0)
            squares[k] += (inner.astype(np.float64) ** 2).sum(axis=0)
            x = layer(x, key_bias)
        tokens += len(ids)
    return [(total / tokens, square / tokens) for total, square in zip(sums, squares)]


def _inner(layer: Any, x: np.ndarray, key_bias: np.ndarray) -> np.ndarray:
    """The feed-forward block's activations (tokens x 1536) of ``layer`` on ``x``, as its forward pass makes them."""
    width, head = x.shape[0], minilm.HIDDEN // minilm.HEADS
    qkv = x @ layer.qkv + layer.qkv_bias
    q, k, v = np.ascontiguousarray(qkv.reshape(1, width, 3, minilm.HEADS, head).transpose(2, 0, 3, 1, 4))
    scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(head**-0.5) + key_bias
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores /= scores.sum(axis=-1, keepdims=True)
    attended = (scores @ v).transpose(0, 2, 1, 3).reshape(width, minilm.HIDDEN)
    x = minilm._layer_norm(attended @ layer.out + layer.out_bias + x, *layer.norm1)
    inner: np.ndarray = minilm._gelu(x @ layer.up + layer.up_bias)
    return inner


# Measurements -------------------------------------------------------------------------------------


def _session(path: Path, *, profile_prefix: str | None = None) -> Any:
    ort = minilm_onnx._import("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(
        str(path),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(minilm_onnx.SESSION_DISABLED_FUSIONS),
    )


def _run(session: Any, batch: list[list[int]]) -> np.ndarray:
    ids, mask = minilm.padded_batch(batch)
    (vectors,) = session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
    return np.asarray(vectors)


def _lengths_line(ids: list[list[int]]) -> str:
    lengths = np.asarray([len(tokens) for tokens in ids])
    p10, p50, p90, p99 = np.percentile(lengths, [10, 50, 90, 99])
    return (
        f"word pieces per text ([CLS] and [SEP] included), {len(ids)} texts: p10 {p10:.0f}, p50 {p50:.0f}, "
        f"p90 {p90:.0f}, p99 {p99:.0f}, max {lengths.max()}, mean {lengths.mean():.1f}"
    )


def _profile_lines(path: Path, ids: list[list[int]]) -> str:
    with tempfile.TemporaryDirectory() as folder:
        session = _session(path, profile_prefix=str(Path(folder) / "profile"))
        for tokens in ids:
            _run(session, [tokens])
        events = json.loads(Path(session.end_profiling()).read_text())
    by_op: Counter[str] = Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            by_op[event["args"]["op_name"]] += event["dur"]
    total = sum(by_op.values())
    lines = [f"ONNX Runtime's profile, {len(ids)} texts one per run: {total / len(ids):.0f} us of kernel time per text"]
    lines += [f"  {op}: {us / len(ids):.0f} us ({100 * us / total:.1f}%)" for op, us in by_op.most_common(8)]
    return "\n".join(lines)


def _cpu_lines(graphs: dict[str, Path], ids: list[list[int]], specs: Sequence[str]) -> str:
    """Each variant's session CPU per text, interleaved text by text (two passes), as a ratio to the first."""
    sessions = {spec: _session(graphs[spec]) for spec in specs}
    cpu: dict[str, list[float]] = {spec: [] for spec in specs}
    vectors: dict[str, list[np.ndarray]] = {spec: [] for spec in specs}
    for _ in range(2):
        for tokens in ids:
            for spec, session in sessions.items():
                start = time.process_time()
                vector = _run(session, [tokens])[0]
                cpu[spec].append(time.process_time() - start)
                vectors[spec].append(vector)
    first = specs[0]
    base = float(np.median(cpu[first]))
    reference = np.vstack(vectors[first])
    lines = [f"CPU per text (session run), {len(ids)} oldest texts x 2 passes, interleaved; ratio to {first}:"]
    for spec in specs:
        median = float(np.median(cpu[spec]))
        difference = float(np.abs(np.vstack(vectors[spec]) - reference).max())
        lines.append(
            f"  {spec}: p50 {median * 1e3:.3f} ms, ratio {median / base:.3f}, max |vector - {first}'s| {difference:.1e}"
        )
    return "\n".join(lines)


def _batch_lines(path: Path, ids: list[list[int]], draws: int = 300) -> str:
    """CPU per text at each batch size, the texts drawn at random and padded to the longest of their batch."""
    session = _session(path)
    rng = random.Random(0)
    cpu: dict[int, list[float]] = {size: [] for size in BATCH_SIZES}
    for _ in range(draws):
        for size in BATCH_SIZES:
            batch = rng.sample(ids, size)
            start = time.process_time()
            _run(session, batch)
            cpu[size].append((time.process_time() - start) / size)
    base = float(np.median(cpu[1]))
    parts = [f"{size}: {np.median(cpu[size]) * 1e3:.3f} ms ({np.median(cpu[size]) / base:.2f})" for size in BATCH_SIZES]
    return f"CPU per text by batch size (random texts, {draws} draws each): " + ", ".join(parts)


def _primed(path: Path, texts: list[str]) -> None:
    """The embedding cache holds ``path``'s vectors under the int8 identity, so minilm-linear trains on them."""
    from ml.embeddings import clear_embedding_cache, prime_embedding_cache

    session = _session(path)
    ids = minilm_onnx.load_onnx_encoder("int8").token_ids(texts)
    vectors = np.vstack([_run(session, [tokens]) for tokens in ids]).astype(np.float32)
    clear_embedding_cache()
    prime_embedding_cache(texts, vectors, identity=minilm_onnx.int8_identity())


def _fit_predict(texts: list[str], labels: np.ndarray) -> Any:
    from ml.training import train_model

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        model = train_model(texts=[texts[i] for i in train], labels=list(labels[train]), algorithm="minilm-linear")
        return np.asarray(model.predict([texts[i] for i in test]))

    return fit_predict


def _cv_line(spec: str, path: Path, texts: list[str], labels: np.ndarray) -> str:
    """5-fold CV (stratified, seed 0) of minilm-linear on the oldest 80%, on ``spec``'s vectors."""
    cut = int(len(texts) * 0.8)
    oldest, oldest_labels = texts[:cut], labels[:cut]
    _primed(path, oldest)
    fit_predict = _fit_predict(oldest, oldest_labels)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(np.zeros(cut), oldest_labels)
    scores = [f1_score(oldest_labels[test], fit_predict(train, test), average="weighted") for train, test in folds]
    return f"F1 5-fold CV on the oldest 80%, {spec}: {np.mean(scores):.4f} ± {np.std(scores):.4f}"


def _gate_line(spec: str, path: Path, texts: list[str], labels: np.ndarray) -> str:
    _primed(path, texts)
    figures = f1_figures(_fit_predict(texts, labels), labels)
    mean, sd = figures["cv"]
    return (
        f"gate, {spec}: F1 oldest 80% -> newest 20% {figures['time_split']:.4f}, reverse {figures['reverse']:.4f}, "
        f"5-fold CV {mean:.4f} ± {sd:.4f}"
    )


if __name__ == "__main__":
    main()
