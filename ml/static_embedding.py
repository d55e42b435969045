"""A static embedding distilled from our own MiniLM: one vector per word piece, a text's vector their sum.

model2vec's method, written here (its package needs torch to distil): every word piece of the MiniLM
vocabulary goes through the encoder alone, as ``[CLS] piece [SEP]``, and its sentence vector is kept;
the table is centred and reduced to :data:`DIMENSIONS` by PCA over the vocabulary, each row is scaled
by a SIF weight from the piece's Zipf rank (the vocabulary's order), and stored in int8 with one scale
per row.  A text's vector is then the sum of its pieces' rows at unit length (the weighted mean's
direction), with no network at all: tokenising and a few hundred additions.

The distillation runs the encoder ``TAGLOOP_MINILM_BACKEND`` names (int8 ONNX by default, one piece
per run, so each row depends on its piece alone) over 30,522 pieces: ~25 s of CPU.  Its result is kept
in :func:`table_dir` (``TAGLOOP_VAR_DIR/static-embeddings``), named by the encoder's identity and
:data:`RECIPE_VERSION`, so only the first fit of a machine pays it; nothing is downloaded.  A fitted
:class:`StaticEmbedder` holds its own copy of the table (7.8 MB of int8), so a saved model serves on
any machine with the tokenizer alone, whatever that machine's encoder would distil.
"""

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ml import minilm, minilm_onnx

# Bump when the recipe below changes the table (pooling, PCA, weights, quantisation).
RECIPE_VERSION = 1
# Chosen by stratified 5-fold CV on the whole dataset (seed 0), static-linear's pipeline, never on the
# newest slice: PCA 128 0.908, 192 0.918, 256 0.920, 384 (no reduction) 0.919 (sd 0.013-0.021).
DIMENSIONS = 256
# model2vec's SIF coefficient: weight a / (a + p), p the Zipf probability of the piece's rank.  Same CV:
# no weighting 0.914, Zipf 0.920, SIF from the training texts' own counts (a=1e-2) 0.912, idf 0.911.
SIF_COEFFICIENT = 1e-4
REPO = Path(__file__).resolve().parents[1]

_lock = threading.Lock()
_tables: dict[str, "StaticTable"] = {}  # identity -> table, read once per process
logger = logging.getLogger(__name__)


class StaticEmbeddingUnavailable(minilm.MiniLMUnavailable):
    """No table is distilled yet and this install cannot run the encoder it is distilled from."""


@dataclass(frozen=True)
class StaticTable:
    """The distilled table: int8 rows, one float32 scale per row, and what made it."""

    identity: str
    vectors: np.ndarray  # int8 (vocabulary, DIMENSIONS)
    scales: np.ndarray  # float32 (vocabulary,)


def load_table() -> StaticTable:
    """The table for the configured encoder: read from :func:`table_dir`, or distilled there first."""
    encoder, encoder_identity = _token_encoder()
    identity = table_identity(encoder_identity)
    path = table_dir() / f"{identity}.npz"
    with _lock:  # parallel fits of one retrain wait for one distillation
        if identity not in _tables:
            if not path.is_file():
                vectors, scales = quantise(distil(encoder))
                _save(path, vectors, scales)
            _tables[identity] = _read(path, identity)
        return _tables[identity]


def table_identity(encoder_identity: str) -> str:
    digest = hashlib.sha256(encoder_identity.encode()).hexdigest()[:16]
    return f"static-{digest}-r{RECIPE_VERSION}-d{DIMENSIONS}"


def table_dir() -> Path:
    """``TAGLOOP_VAR_DIR/static-embeddings`` (the settings' default var folder when it is unset)."""
    return Path(os.environ.get("TAGLOOP_VAR_DIR") or REPO / "var") / "static-embeddings"


def distil(encoder: Any) -> np.ndarray:
    """float32 (vocabulary, DIMENSIONS): every piece's vector through ``encoder``, reduced and weighted.

    ``encoder`` is a MiniLM encoder with ``token_ids`` and ``embed(list of id lists)`` (ml.minilm,
    ml.minilm_onnx).
    """
    size = encoder._tokenizer.get_vocab_size()
    cls, sep = encoder.token_ids([""])[0]  # an empty text is [CLS] [SEP]
    logger.info("distilling the static embedding from %s word pieces", size)
    # 1 for int8 (ml.minilm_onnx): a row must not depend on the pieces beside it; fp32 rows do not.
    step = getattr(encoder, "batch_size", minilm.BATCH_SIZE)
    pieces = [
        encoder.embed([[cls, piece, sep] for piece in range(start, min(start + step, size))])
        for start in range(0, size, step)
    ]
    table: np.ndarray = principal_components(np.vstack(pieces), DIMENSIONS) * zipf_weights(size)[:, None]
    return table.astype(np.float32)


def principal_components(table: np.ndarray, dimensions: int) -> np.ndarray:
    """``table`` centred and projected on its ``dimensions`` largest principal axes, each axis's sign fixed."""
    centred = table.astype(np.float64) - table.mean(axis=0, dtype=np.float64)
    _, axes = np.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
    axes = axes[:, ::-1][:, :dimensions]
    # An eigenvector's sign is arbitrary: the largest component positive, so a rerun gives the same table.
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(axes.shape[1])])
    projected: np.ndarray = centred @ axes
    return projected


def zipf_weights(size: int) -> np.ndarray:
    """SIF weights a / (a + p(rank)), p Zipf's law over the vocabulary's order (frequent pieces first)."""
    probability = 1.0 / np.arange(2, size + 2)
    probability /= probability.sum()
    weights: np.ndarray = SIF_COEFFICIENT / (SIF_COEFFICIENT + probability)
    return weights


def quantise(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 rows, float32 scale per row): row * scale is the row to half a step (1/254 of its largest value)."""
    largest = np.abs(table).max(axis=1)
    scales = np.where(largest == 0, 1.0, largest / 127.0).astype(np.float32)
    vectors = np.clip(np.rint(table / scales[:, None]), -127, 127).astype(np.int8)
    return vectors, scales


def encode(texts: Sequence[str], vectors: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """float32 (n, dimensions): each prepared text's pieces' rows summed, at unit length (zero if none)."""
    if isinstance(texts, str):
        raise ValueError("expected a list of texts, got a single string")
    ids = word_piece_ids([str(text) for text in texts])
    out = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
    for row, pieces in enumerate(ids):
        if pieces:
            out[row] = scales[pieces] @ vectors[pieces].astype(np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    unit: np.ndarray = out / np.where(norms == 0, 1.0, norms)
    return unit


def word_piece_ids(texts: list[str]) -> list[list[int]]:
    """The MiniLM word pieces of each text, without [CLS] and [SEP] (at most minilm.MAX_TOKENS)."""
    return [encoding.ids for encoding in tokenizer().encode_batch(texts, add_special_tokens=False)]


@cache
def tokenizer() -> Any:
    """MiniLM's word-piece tokenizer: the copy beside the built graph (the default install), else the package's."""
    for precision in minilm_onnx.PRECISIONS:
        try:
            graph = minilm_onnx.find_graph_file(precision)
        except minilm.MiniLMUnavailable:  # no onnxruntime, or several graphs
            graph = None
        if graph is not None and minilm_onnx.tokenizer_beside(graph).is_file():
            return minilm.load_tokenizer_file(minilm_onnx.tokenizer_beside(graph))
    return minilm.load_tokenizer(minilm.model_dir())


def _token_encoder() -> tuple[Any, str]:
    """(the encoder TAGLOOP_MINILM_BACKEND names, its vectors' identity), or a clear error if it cannot run."""
    from ml.catalogue import EMBEDDING_MODEL_NAME
    from ml.minilm_backends import configured_backend, unavailable_reason

    try:
        backend = configured_backend()
        reason = unavailable_reason(backend)
    except minilm.MiniLMUnavailable as error:
        backend, reason = "onnx", str(error)
    if reason is not None:
        raise StaticEmbeddingUnavailable(
            f"static-linear distils its word-piece table from the MiniLM encoder, which cannot run here: {reason}"
        )
    if backend == "numpy":
        return minilm.load_encoder(), EMBEDDING_MODEL_NAME
    encoder = minilm_onnx.load_onnx_encoder(backend.removeprefix("onnx-"))
    return encoder, encoder.identity


def _save(path: Path, vectors: np.ndarray, scales: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".npz")
    os.close(handle)
    temporary = Path(name)
    try:
        np.savez(temporary, vectors=vectors, scales=scales)
        temporary.chmod(0o644)
        os.replace(temporary, path)  # processes distilling at once never read half a file
    finally:
        temporary.unlink(missing_ok=True)


def _read(path: Path, identity: str) -> StaticTable:
    with np.load(path, allow_pickle=False) as stored:
        return StaticTable(identity=identity, vectors=stored["vectors"], scales=stored["scales"])


class StaticEmbedder(TransformerMixin, BaseEstimator):
    """Pipeline step: prepared texts -> the static embedding, from the table it copied when fitted."""

    def fit(self, X: Any, y: Any = None) -> "StaticEmbedder":
        table = load_table()
        self.table_identity_ = table.identity
        self.vectors_ = table.vectors
        self.scales_ = table.scales
        self.n_features_out_ = table.vectors.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "vectors_")
        return encode(X, self.vectors_, self.scales_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"static{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
