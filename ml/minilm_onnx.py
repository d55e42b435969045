"""all-MiniLM-L6-v2 on ONNX Runtime: the graph built once from the packaged weights, fp32 or int8.

The numpy encoder (:mod:`ml.minilm`) is the reference; this is the same network as an ONNX
graph (:mod:`ml.minilm_graph`), run by ONNX Runtime's fused CPU kernels.  Two precisions:

- ``fp32``: the same vectors as the numpy path (tests/ml/test_ml_minilm_onnx.py: max
  difference ~2e-7 on dataset texts), about four times faster (make bench-encoder);
- ``int8``: the fp32 graph after ONNX Runtime's dynamic quantisation (int8 weights per
  output channel, activations quantised per run), which runs the products on the CPU's
  integer units (VNNI/AMX where present).  Its vectors are close but not equal (cosine to
  fp32 >= 0.98 on dataset texts), so they carry their own identity
  (:func:`int8_identity`) wherever vectors are cached or stored.

The graph files are built on first use (seconds) and kept in :func:`cache_dirs`, named by
the sha256 of the weights, the graph's version and ONNX Runtime's version: a changed weights
package, builder or quantiser makes new files (and removes the stale ones) instead of
reusing them.  Files are written to a temporary name and renamed, so processes building at
once never read half a file.

Building needs the packaged weights and ``onnx`` (requirements-minilm-build.txt); running
needs only onnxruntime and ``tokenizers``.  ``make install`` builds the graph the setting
uses with those tools in a throwaway folder (``scripts/build_onnx_graph.sh``), and the word-piece
tokenizer is copied next to the graph, so the default install serves and trains with neither
the weights (88 MB) nor onnx: without the weights, the one built graph for this graph version
and ONNX Runtime version in :func:`cache_dirs` is used (:func:`find_graph_file`).
"""

import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from ml import minilm
from ml.catalogue import EMBEDDING_MODEL_NAME

PRECISIONS = ("fp32", "int8")
# Bump when ml.minilm_graph, the quantisation settings or the session's graph optimisations
# (SESSION_DISABLED_FUSIONS) change what a file holds or the vectors it gives.  3: fused attention,
# SkipLayerNormalization fusion off.
GRAPH_VERSION = 3
# ONNX Runtime fusions the sessions leave out.  Its SkipLayerNormalization kernel (residual add +
# layer norm in one) costs more on CPU than the Add and LayerNormalization it replaces: int8, one
# text of ~31 tokens, 3.25 ms of CPU without it against 3.85-3.91 with it (2026-12-05, load 4-5,
# interleaved; fp32 vectors within 1e-7).  In int8 the last-bit differences can move a
# quantisation step, so the choice is part of GRAPH_VERSION, which names the int8 vectors.
SESSION_DISABLED_FUSIONS = ("SkipLayerNormFusion",)
# Intra-op threads per session unless TAGLOOP_ONNX_THREADS says otherwise: one, because web
# and worker processes encode side by side on few cores (make bench-encoder measures 1 vs 2).
DEFAULT_THREADS = 1
INSTALL_HINT = "pip install --no-deps -r requirements-minilm.txt (onnxruntime)"
BUILD_TOOLS = "requirements-minilm-build.txt"
BUILD_HINT = (
    f"`make install` builds it (scripts/build_onnx_graph.sh, with the tools of {BUILD_TOOLS} in a throwaway folder), "
    f"or install them here: pip install --no-deps -r {BUILD_TOOLS}"
)

_lock = threading.Lock()
logger = logging.getLogger(__name__)


class OnnxUnavailable(minilm.MiniLMUnavailable):
    """onnxruntime is not installed, or no graph is built and the tools to build one are not."""


@cache
def onnx_available() -> bool:
    """Whether onnxruntime, which runs a built graph, is installed (without importing it)."""
    return _installed("onnxruntime")


def builder_available() -> bool:
    """Whether this process can write graphs: onnx and the packaged MiniLM weights installed."""
    return _installed("onnx") and _weights_or_none() is not None


def unavailable_reason(precision: str) -> str | None:
    """What keeps the ``precision`` encoder from running here, or None when it can (builds nothing)."""
    if not onnx_available():
        return f"the ONNX MiniLM encoder needs onnxruntime ({INSTALL_HINT})"
    if not _installed("tokenizers"):
        return f"the MiniLM encoder needs tokenizers ({minilm.INSTALL_HINT})"
    if find_graph_file(precision) is not None or builder_available():
        return None
    return _missing_graph_message(precision)


def _installed(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def encode(texts: Sequence[str], precision: str = "int8") -> np.ndarray:
    """Embed prepared ``texts``: float32 array (n, 384), rows of unit length, as :func:`ml.minilm.encode`."""
    if isinstance(texts, str):
        raise ValueError("expected a list of texts, got a single string")
    texts = [str(text) for text in texts]
    if not texts:
        return np.zeros((0, minilm.HIDDEN), dtype=np.float32)
    return load_onnx_encoder(precision).encode(texts)


def int8_identity() -> str:
    """What int8 vectors are cached and stored under: the model's name and the int8 graph's sha256."""
    return load_onnx_encoder("int8").identity


def load_onnx_encoder(precision: str) -> "OnnxMiniLM":
    """The session for ``precision``, built and loaded once per process."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    with _lock:
        return _cached_encoder(precision, threads())


def threads() -> int:
    raw = os.environ.get("TAGLOOP_ONNX_THREADS", str(DEFAULT_THREADS))
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"TAGLOOP_ONNX_THREADS must be a whole number of threads, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"TAGLOOP_ONNX_THREADS must be at least 1, got {value}")
    return value


@cache
def _cached_encoder(precision: str, intra_op_threads: int) -> "OnnxMiniLM":
    return OnnxMiniLM(graph_file(precision), precision=precision, intra_op_threads=intra_op_threads)


class OnnxMiniLM:
    """An ONNX Runtime session over one graph file, with the package's tokenizer."""

    def __init__(
        self,
        path: Path,
        *,
        precision: str,
        intra_op_threads: int = DEFAULT_THREADS,
        disabled_fusions: Sequence[str] = SESSION_DISABLED_FUSIONS,
    ):
        ort = _import("onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(path),
            options,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=list(disabled_fusions),
        )
        # The copy built beside the graph (the default install has no weights package), else the package's.
        beside = tokenizer_beside(path)
        self._tokenizer = minilm.load_tokenizer_file(
            beside if beside.is_file() else minilm.model_dir() / minilm.TOKENIZER_FILE
        )
        # fp32 vectors are the numpy path's (to ~2e-7) and share its identity; int8 ones are
        # named by the quantised graph itself, so another quantiser's vectors never mix with these.
        self.identity = EMBEDDING_MODEL_NAME
        self.batch_size = minilm.BATCH_SIZE
        if precision != "fp32":
            # The file's name says what made it (weights' sha256, graph and ONNX Runtime versions).
            self.identity += f"@onnx-{precision}-{hashlib.sha256(path.stem.encode()).hexdigest()[:16]}"
            # Dynamic quantisation scales each product's input by its largest value over the
            # whole batch, padding included: in a batch, a text's int8 vector would depend on
            # its neighbours (0.1 apart in probability, measured).  One text per run keeps a
            # vector a function of its text alone, whoever else is being encoded.
            self.batch_size = 1

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings (n, 384) of prepared ``texts`` (a non-empty list)."""
        return minilm.encode_in_batches(self.token_ids(texts), self.embed, batch_size=self.batch_size)

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]

    def embed(self, batch: list[list[int]]) -> np.ndarray:
        ids, mask = minilm.padded_batch(batch)
        (vectors,) = self._session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
        result: np.ndarray = np.asarray(vectors, dtype=np.float32)
        return result


# Building the files ---------------------------------------------------------------------------


def graph_file(precision: str) -> Path:
    """The graph file for ``precision``, built (and for int8 quantised) if no cache folder has it yet."""
    return find_graph_file(precision) or _build_graph(precision)


def find_graph_file(precision: str) -> Path | None:
    """The built graph for ``precision``, or None; builds nothing.

    With the weights installed, the file named by their sha256; without them (the default install),
    the one graph of this graph version and ONNX Runtime version that has its tokenizer beside it.
    """
    folders = cache_dirs()
    weights = _weights_or_none()
    if weights is None:
        return _shipped_graph(precision, folders)
    found = _found(folders, _stem(weights, folders)).get(precision)
    if found is not None:
        _copy_tokenizer(found)
    return found


def tokenizer_beside(graph: Path) -> Path:
    """Where the build step copies the weights package's tokenizer: next to the graph, named by its stem."""
    stem = graph.name.rsplit("-", 1)[0]  # minilm-<sha>-g<version>-ort<version>, without "-int8.onnx"
    return graph.with_name(f"{stem}-{minilm.TOKENIZER_FILE}")


def _stem(weights: Path, folders: list[Path]) -> str:
    writable = _writable(folders)
    return f"minilm-{_weights_sha256(weights, writable)[:16]}-g{GRAPH_VERSION}-ort{_ort_version()}"


def _found(folders: list[Path], stem: str) -> dict[str, Path]:
    """precision -> graph file of ``stem``, the first folder's where several have it."""
    found = {name: folder / name for folder in reversed(folders) for name in _names(folder, stem)}
    return {name.removeprefix(f"{stem}-").removesuffix(".onnx"): path for name, path in found.items()}


def _shipped_graph(precision: str, folders: list[Path]) -> Path | None:
    pattern = f"minilm-*-g{GRAPH_VERSION}-ort{_ort_version()}-{precision}.onnx"
    graphs = {path.name: path for folder in reversed(folders) for path in folder.glob(pattern)}
    usable = sorted(path for path in graphs.values() if tokenizer_beside(path).is_file())
    if len(usable) > 1:
        # Graphs of two weights packages: which one a model was trained with cannot be told here.
        raise OnnxUnavailable(
            f"several {precision} MiniLM graphs and no weights package to choose between them: "
            f"{', '.join(map(str, usable))}; remove all but one, or {BUILD_HINT}"
        )
    return usable[0] if usable else None


def _missing_graph_message(precision: str) -> str:
    where = ", ".join(map(str, cache_dirs())) or "no usable folder"
    lacking = [
        name
        for name, ok in (("onnx", _installed("onnx")), ("the MiniLM weights package", _weights_or_none() is not None))
        if not ok
    ]
    return (
        f"no {precision} MiniLM graph (graph version {GRAPH_VERSION}, ONNX Runtime {_ort_version()}) with its "
        f"tokenizer in {where}, and this install cannot build one (it lacks {' and '.join(lacking)}): {BUILD_HINT}"
    )


def _build_graph(precision: str) -> Path:
    weights = _weights_or_none()
    if weights is None or not _installed("onnx"):
        raise OnnxUnavailable(_missing_graph_message(precision))
    folders = cache_dirs()
    writable = _writable(folders)
    if writable is None:
        raise OSError(
            f"no writable folder for the ONNX graphs: set TAGLOOP_ONNX_DIR (tried {', '.join(map(str, folders))})"
        )
    stem = _stem(weights, folders)
    path = writable / f"{stem}-{precision}.onnx"
    if precision == "fp32":
        _write_atomically(path, lambda tmp: _build_fp32(weights, tmp))
    else:
        fp32 = _found(folders, stem).get("fp32")
        _write_atomically(path, lambda tmp: _quantise_from(fp32, weights, tmp))
    _remove_stale(writable, stem)
    _copy_tokenizer(path)
    return path


def _copy_tokenizer(graph: Path) -> None:
    """The weights package's tokenizer beside ``graph``, so an install without the package can encode."""
    target = tokenizer_beside(graph)
    if target.is_file() or not os.access(graph.parent, os.W_OK):
        return
    source = minilm.model_dir() / minilm.TOKENIZER_FILE
    _write_atomically(target, lambda tmp: tmp.write_bytes(source.read_bytes()), suffix=".json")


def _writable(folders: list[Path]) -> Path | None:
    return next((folder for folder in folders if os.access(folder, os.W_OK)), None)


def _weights_or_none() -> Path | None:
    try:
        return minilm.weights_path()
    except minilm.MiniLMUnavailable:
        return None


def _ort_version() -> str:
    """ONNX Runtime's version from its metadata, so finding a graph imports nothing (``manage.py check``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onnxruntime")
    except PackageNotFoundError:
        raise OnnxUnavailable(f"the ONNX MiniLM encoder needs onnxruntime ({INSTALL_HINT})") from None


def _names(folder: Path, stem: str) -> list[str]:
    return [path.name for path in folder.glob(f"{stem}-*.onnx")]


def _remove_stale(folder: Path, stem: str) -> None:
    """Graphs (and their tokenizers) of other weights or versions: nothing will load them again (a loaded
    session keeps its copy)."""
    for path in folder.glob("minilm-*"):
        if not path.name.startswith(stem):
            path.unlink(missing_ok=True)


def _quantise_from(fp32: Path | None, weights: Path, target: Path) -> None:
    """Quantise the fp32 graph, built into a temporary file (90 MB not kept) when only int8 is used."""
    if fp32 is not None and fp32.is_file():
        _quantise(fp32, target)
        return
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        source = Path(scratch) / "fp32.onnx"
        _build_fp32(weights, source)
        _quantise(source, target)


def cache_dirs() -> list[Path]:
    """Where graphs are looked for, in order: TAGLOOP_ONNX_DIR alone if set, else the virtualenv's
    share/tagloop-onnx, then a folder in the temp dir.

    The virtualenv is where the weights package lives, so the graphs go (and are rebuilt) with it;
    a read-only virtualenv (an image run as another user) still serves the graphs built into it,
    and a graph it lacks is built in the first writable folder.
    """
    configured = os.environ.get("TAGLOOP_ONNX_DIR")
    candidates = (
        [Path(configured)]  # said on purpose: that folder alone
        if configured
        else [Path(sys.prefix) / "share" / "tagloop-onnx", Path(tempfile.gettempdir()) / f"tagloop-onnx-{os.getuid()}"]
    )
    folders = []
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue  # read-only and absent: nothing to find there either
        folders.append(folder)
    return folders


def _build_fp32(weights: Path, target: Path) -> None:
    from ml.minilm_graph import build_minilm_graph

    logger.info("building the MiniLM ONNX graph from %s", weights)
    model = build_minilm_graph(minilm.read_safetensors(weights))
    target.write_bytes(model.SerializeToString())


def _quantise(fp32: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weighted products (per output channel) and of the embedding tables."""
    quantization = _import("onnxruntime.quantization")
    logger.info("quantising %s to int8", fp32.name)
    # Per channel: one scale per output column keeps the vectors at cosine ~0.99 to fp32, where
    # one scale per matrix fell to ~0.92 on some texts.  Only products with a constant weight
    # (the attention scores' products change with every text and stay fp32).  The embedding
    # tables (Gather) in int8 too: the same cosine to fp32 on 300 dataset texts (min 0.987,
    # mean 0.994) and a 23 MB file instead of 58 MB, most of it the word table.  The fused
    # Attention becomes QAttention (its query/key/value weight per channel, as the products').
    # ONNX's shape inference does not know ONNX Runtime's Attention, so the tensors it cannot type
    # are taken for what every activation of this graph is: float32.
    quantization.quantize_dynamic(
        str(fp32),
        str(target),
        weight_type=quantization.QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul", "Gather", "Attention"],
        extra_options={"MatMulConstBOnly": True, "DefaultTensorType": _onnx_float()},
    )


def _onnx_float() -> int:
    from onnx import TensorProto

    return int(TensorProto.FLOAT)


def _write_atomically(target: Path, write: Any, suffix: str = ".onnx") -> None:
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        temporary.chmod(0o644)  # mkstemp's 0600 would hide the file from a server running as another user
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _weights_sha256(weights: Path, folder: Path | None) -> str:
    """The weights' sha256, remembered beside the graphs for as long as the file's size and mtime stay.

    Hashing 90 MB costs a quarter of a second at every process start otherwise; a reinstalled
    package gets a new mtime, so its content is hashed again.
    """
    if folder is None:
        return _sha256(weights)
    stat = weights.stat()
    key = {"path": str(weights), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    memo = folder / "weights-sha256.json"
    try:
        remembered = json.loads(memo.read_text())
        if {name: remembered.get(name) for name in key} == key and isinstance(remembered.get("sha256"), str):
            return str(remembered["sha256"])
    except (OSError, ValueError):
        pass  # absent or unreadable: hash again
    digest = _sha256(weights)
    try:
        _write_atomically(memo, lambda tmp: tmp.write_text(json.dumps({**key, "sha256": digest})), suffix=".json")
    except OSError:
        pass  # a read-only folder: hash at every start
    return digest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _import(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as error:
        hint = INSTALL_HINT if name == "onnxruntime" else BUILD_HINT  # the quantiser needs onnx
        raise OnnxUnavailable(f"the ONNX MiniLM encoder needs {name} ({hint}): {error}") from error


def main() -> None:
    """Build the graph file TAGLOOP_MINILM_BACKEND uses now (``make install`` runs this), printing where it is."""
    from ml.minilm_backends import configured_backend

    backend = configured_backend()
    if backend == "numpy":
        print("TAGLOOP_MINILM_BACKEND=numpy: no ONNX graph needed")
        return
    precision = backend.removeprefix("onnx-")
    print(f"{precision}: {graph_file(precision)}")


if __name__ == "__main__":
    main()
