"""Which MiniLM encoder runs: the setting, the vectors' kind a model records, the encoder that serves it.

``TAGLOOP_MINILM_BACKEND`` chooses among:

- ``onnx-int8`` (the default when onnxruntime is installed): ONNX Runtime, int8 weights; the
  default install runs the graph its build step wrote, without the weights package or onnx;
- ``onnx-fp32``: ONNX Runtime in float32, the numpy path's vectors, faster; its graph is built
  from the weights (requirements-minilm-build.txt) unless the build step wrote it too;
- ``numpy``: :mod:`ml.minilm`, the reference, no onnxruntime needed, the weights package needed.

:func:`unavailable_reason` says what an install lacks for a backend (``manage.py check``'s tagloop.E001).

A minilm-linear model records the *kind* of vectors it was trained on (``int8`` or
``fp32``, :class:`ml.embeddings.MiniLMEmbedder`'s ``precision``) and is always served
vectors of that kind: int8 vectors are close to fp32 but not equal, and a classifier fitted
on one kind is only proven on that kind.  fp32 vectors come from ONNX Runtime or numpy,
whichever the setting prefers (equal to ~2e-7, tested), so models trained before ONNX
Runtime came keep serving, faster.  The setting changes what new models are trained on.
"""

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from ml import minilm, minilm_onnx
from ml.catalogue import EMBEDDING_MODEL_NAME

BACKENDS = ("onnx-int8", "onnx-fp32", "numpy")
SETTING = "TAGLOOP_MINILM_BACKEND"


@dataclass(frozen=True)
class TextEncoder:
    """An encoder and the identity its vectors are cached and stored under."""

    identity: str
    encode: Callable[[Sequence[str]], np.ndarray]


def configured_backend() -> str:
    """The backend TAGLOOP_MINILM_BACKEND names; unset: onnx-int8, or numpy without onnxruntime."""
    raw = os.environ.get("TAGLOOP_MINILM_BACKEND", "").strip()
    if not raw:
        return "onnx-int8" if minilm_onnx.onnx_available() else "numpy"
    if raw not in BACKENDS:
        raise ValueError(f"{SETTING}={raw!r} is not a MiniLM backend; expected one of {', '.join(BACKENDS)}")
    if raw.startswith("onnx-") and not minilm_onnx.onnx_available():
        raise minilm_onnx.OnnxUnavailable(f"{SETTING}={raw} needs onnxruntime ({minilm_onnx.INSTALL_HINT})")
    return raw


def unavailable_reason(backend: str) -> str | None:
    """What keeps ``backend`` from encoding in this install, or None when it can (builds and imports nothing)."""
    if backend == "numpy":
        if _weights_installed():
            return None
        return f"{SETTING}=numpy needs the MiniLM weights package ({minilm.WEIGHTS_HINT})"
    reason = minilm_onnx.unavailable_reason(backend.removeprefix("onnx-"))
    return None if reason is None else f"{SETTING}={backend}: {reason}"


def _weights_installed() -> bool:
    try:
        minilm.weights_path()
    except minilm.MiniLMUnavailable:
        return False
    return True


def training_precision() -> str:
    """The kind of vectors a minilm-linear model trained now learns from."""
    return "int8" if configured_backend() == "onnx-int8" else "fp32"


def encoder_for(precision: str) -> TextEncoder:
    """The encoder that makes vectors of ``precision`` ("fp32" or "int8") in this process."""
    if precision == "int8":
        return TextEncoder(minilm_onnx.int8_identity(), partial(minilm_onnx.encode, precision="int8"))
    if precision != "fp32":
        raise ValueError(f"unknown MiniLM precision {precision!r}; expected fp32 or int8")
    if configured_backend() == "numpy":
        return TextEncoder(EMBEDDING_MODEL_NAME, minilm.encode)
    return TextEncoder(EMBEDDING_MODEL_NAME, partial(minilm_onnx.encode, precision="fp32"))
