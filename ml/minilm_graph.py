"""all-MiniLM-L6-v2 as an ONNX graph, written from the packaged weights with ``onnx.helper``.

The same network as :mod:`ml.minilm` (that module is the reference): word + position +
token-type embeddings and a layer norm, 6 post-norm BERT layers with exact (erf) GELU,
mean pooling over the real tokens, unit length.  Written node by node rather than
exported from torch, so the default install needs neither torch nor a download: the
only input is the dict of float32 arrays :func:`ml.minilm.read_safetensors` returns.

Inputs: ``input_ids`` (int64, batch x tokens) and ``attention_mask`` (float32, 1 for a
real token, 0 for padding).  Output: ``embedding`` (float32, batch x 384).

Each layer's self-attention is ONNX Runtime's own ``Attention`` operator (domain
``com.microsoft``): the query, key and value products as one weight, the heads, the
padding mask and the softmax in one kernel, which dynamic int8 quantisation turns into
``QAttention``.  It gives the same vectors as the standard operators (``fused_attention=False``,
kept as the portable reference: ~1e-7 apart in fp32, equal in int8, tested) for ~5% less CPU per
text; the graph only ever runs on ONNX Runtime.  Everything else is standard opset-17 operators
that ONNX Runtime fuses (layer norm, GELU, bias additions) when it loads the graph.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

OPSET = 17
HIDDEN = 384
HEADS = 12
LAYER_NORM_EPS = 1e-12
# Padded keys get -1e4 before the softmax, as BERT's extended attention mask (and ml.minilm) does.
PADDING_BIAS = -1e4
# ONNX Runtime's contributed operators (Attention), version 1 of their domain.
MS_DOMAIN = "com.microsoft"

# (x, the side-by-side query/key/value weight and bias, the layer's name) -> the heads merged back.
Attend = Callable[[str, np.ndarray, np.ndarray, str], str]


class _Graph:
    """Nodes and initialisers collected while the layers are written; names made unique."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self._helper = helper
        self._numpy_helper = numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def constant(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        """Add one node; its (only) output's name."""
        return self.node(op_type, *inputs, outputs=1, **attributes)[0]

    def node(self, op_type: str, *inputs: str, outputs: int, **attributes: Any) -> list[str]:
        self._count += 1
        names = [f"{op_type.lower()}_{self._count}_{i}" for i in range(outputs)]
        node = self._helper.make_node(op_type, list(inputs), names, name=f"{op_type}_{self._count}", **attributes)
        self.nodes.append(node)
        return names


def build_minilm_graph(weights: dict[str, np.ndarray], *, fused_attention: bool = True) -> Any:
    """The ``onnx.ModelProto`` of the encoder over ``weights`` (names without the ``bert.`` prefix).

    ``fused_attention=False`` writes the attention with standard operators only (any ONNX runtime).
    """
    from onnx import TensorProto, checker, helper

    g = _Graph()
    layer_count = len({name.split(".")[2] for name in weights if name.startswith("encoder.layer.")})
    hidden = _embeddings(g, weights)
    attend = _fused_attention(g) if fused_attention else _standard_attention(g)
    for index in range(layer_count):
        hidden = _layer(g, weights, f"encoder.layer.{index}.", hidden, attend, index)
    embedding = _mean_pool_unit(g, hidden)
    g.nodes.append(helper.make_node("Identity", [embedding], ["embedding"]))
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        g.initializers,
    )
    opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid(MS_DOMAIN, 1)] if fused_attention else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="tagloop")
    model.ir_version = 8  # opset 17's IR version: ONNX Runtime releases of the last years all read it
    checker.check_model(model)
    return model


def _embeddings(g: _Graph, weights: dict[str, np.ndarray]) -> str:
    """The hidden states, batch x tokens x 384."""
    words = g.op("Gather", g.constant("word_embeddings", weights["embeddings.word_embeddings.weight"]), "input_ids")
    # Positions 0..tokens-1: the first rows of the position table, cut at the input's width.
    width = g.op("Slice", g.op("Shape", "input_ids"), _ints(g, "one", [1]), _ints(g, "two", [2]))
    positions = g.op(
        "Slice",
        g.constant("position_embeddings", weights["embeddings.position_embeddings.weight"]),
        _ints(g, "zero", [0]),
        width,
        _ints(g, "axis0", [0]),
    )
    # Every token has type 0: its embedding is a constant row.
    token_type = g.constant("token_type_embedding", weights["embeddings.token_type_embeddings.weight"][0])
    summed = g.op("Add", g.op("Add", words, positions), token_type)
    return _layer_norm(g, summed, weights, "embeddings.LayerNorm", "embeddings")


def _layer(g: _Graph, weights: dict[str, np.ndarray], prefix: str, x: str, attend: Attend, index: int) -> str:
    name = f"layer{index}"

    def get(part: str) -> np.ndarray:
        return weights[prefix + part]

    parts = ("query", "key", "value")
    qkv_weight = np.concatenate([get(f"attention.self.{part}.weight") for part in parts]).T
    qkv_bias = np.concatenate([get(f"attention.self.{part}.bias") for part in parts])
    merged = attend(x, qkv_weight, qkv_bias, name)
    out = _dense(g, merged, get("attention.output.dense.weight").T, get("attention.output.dense.bias"), f"{name}.out")
    x = _layer_norm(g, g.op("Add", out, x), weights, prefix + "attention.output.LayerNorm", f"{name}.norm1")
    inner = _gelu(g, _dense(g, x, get("intermediate.dense.weight").T, get("intermediate.dense.bias"), f"{name}.up"))
    down = _dense(g, inner, get("output.dense.weight").T, get("output.dense.bias"), f"{name}.down")
    return _layer_norm(g, g.op("Add", down, x), weights, prefix + "output.LayerNorm", f"{name}.norm2")


def _fused_attention(g: _Graph) -> Attend:
    """Self-attention as ONNX Runtime's one ``Attention`` kernel per layer."""
    from onnx import TensorProto

    # The operator takes the mask as int32 ones and zeros and gives padded keys mask_filter_value.
    mask = g.op("Cast", "attention_mask", to=TensorProto.INT32)

    def attend(x: str, qkv_weight: np.ndarray, qkv_bias: np.ndarray, name: str) -> str:
        weight = g.constant(f"{name}.qkv.weight", qkv_weight.astype(np.float32))
        bias = g.constant(f"{name}.qkv.bias", qkv_bias.astype(np.float32))
        # The default scale is 1/sqrt(head size), as in the standard operators below.
        return g.op(
            "Attention", x, weight, bias, mask, domain=MS_DOMAIN, num_heads=HEADS, mask_filter_value=PADDING_BIAS
        )

    return attend


def _standard_attention(g: _Graph) -> Attend:
    """Self-attention written with standard operators: one product for query, key and value, then the heads."""
    padding = g.op("Sub", g.constant("one_float", np.asarray(1.0, dtype=np.float32)), "attention_mask")
    key_bias = g.op("Mul", padding, g.constant("padding_bias", np.asarray(PADDING_BIAS, dtype=np.float32)))
    # batch x 1 x 1 x tokens: added to every head's scores for every query.
    key_bias = g.op("Unsqueeze", key_bias, _ints(g, "axes12", [1, 2]))

    def attend(x: str, qkv_weight: np.ndarray, qkv_bias: np.ndarray, name: str) -> str:
        qkv = _dense(g, x, qkv_weight, qkv_bias, f"{name}.qkv")
        query, key, value = _split3(g, qkv)
        head = HIDDEN // HEADS
        heads_shape = _ints(g, "heads_shape", [0, 0, HEADS, head])
        # (batch, heads, tokens, head); the keys transposed once to (batch, heads, head, tokens).
        q = g.op("Transpose", g.op("Reshape", query, heads_shape), perm=[0, 2, 1, 3])
        k = g.op("Transpose", g.op("Reshape", key, heads_shape), perm=[0, 2, 3, 1])
        v = g.op("Transpose", g.op("Reshape", value, heads_shape), perm=[0, 2, 1, 3])
        scale = g.constant(f"{name}.scale", np.asarray(head**-0.5, dtype=np.float32))
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), key_bias)
        attended = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        merged_shape = _ints(g, "merged_shape", [0, 0, HIDDEN])
        return g.op("Reshape", g.op("Transpose", attended, perm=[0, 2, 1, 3]), merged_shape)

    return attend


def _split3(g: _Graph, x: str) -> list[str]:
    split = _ints(g, "qkv_split", [HIDDEN, HIDDEN, HIDDEN])
    return g.node("Split", x, split, axis=2, outputs=3)


def _dense(g: _Graph, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
    # MatMul with a constant weight, then the bias: the shape dynamic quantisation recognises.
    product = g.op("MatMul", x, g.constant(f"{name}.weight", weight.astype(np.float32)))
    return g.op("Add", product, g.constant(f"{name}.bias", bias.astype(np.float32)))


def _layer_norm(g: _Graph, x: str, weights: dict[str, np.ndarray], prefix: str, name: str) -> str:
    scale = g.constant(f"{name}.gamma", weights[prefix + ".weight"])
    shift = g.constant(f"{name}.beta", weights[prefix + ".bias"])
    return g.op("LayerNormalization", x, scale, shift, axis=-1, epsilon=LAYER_NORM_EPS)


def _gelu(g: _Graph, x: str) -> str:
    # Exact GELU, x * (1 + erf(x / sqrt 2)) / 2: the pattern ONNX Runtime fuses into one Gelu kernel.
    erf = g.op("Erf", g.op("Div", x, _float(g, "sqrt2", 2.0**0.5)))
    return g.op("Mul", g.op("Mul", x, g.op("Add", erf, _float(g, "one_f", 1.0))), _float(g, "half", 0.5))


def _mean_pool_unit(g: _Graph, hidden: str) -> str:
    """Mean over the real tokens (the mask's ones), then unit length (a zero vector stays zero)."""
    mask = g.op("Unsqueeze", "attention_mask", _ints(g, "axis2", [2]))
    axis1 = _ints(g, "axis1", [1])
    total = g.op("ReduceSum", g.op("Mul", hidden, mask), axis1, keepdims=0)
    count = g.op("ReduceSum", "attention_mask", axis1, keepdims=1)
    pooled = g.op("Div", total, count)
    norm = g.op("ReduceL2", pooled, axes=[1], keepdims=1)
    # Where the norm is 0 divide by 1, as ml.minilm does.
    zero = g.op("Equal", norm, _float(g, "zero_f", 0.0))
    safe = g.op("Where", zero, _float(g, "one_f", 1.0), norm)
    return g.op("Div", pooled, safe)


def _ints(g: _Graph, name: str, values: list[int]) -> str:
    if not any(init.name == name for init in g.initializers):
        g.constant(name, np.asarray(values, dtype=np.int64))
    return name


def _float(g: _Graph, name: str, value: float) -> str:
    if not any(init.name == name for init in g.initializers):
        g.constant(name, np.asarray(value, dtype=np.float32))
    return name
