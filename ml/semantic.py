"""How far a text's meaning is from the training content: distance to its nearest training texts.

Sentence embeddings (MiniLM, unit length) place texts about the same thing close together,
whatever words they use.  A text is scored by ``1 - mean cosine similarity`` to its
``NEIGHBOURS`` most similar training texts: a density estimate of the training content that
needs no off-topic examples, so it cannot overfit to the kinds of off-topic text someone
thought of (legal terms, a book-club notice and a physics exercise are all far from every
ML item, though none shares the wording of a spam or a recipe).

The reference vectors are kept as int8 (``round(127 * v)``): a quarter of float32's size in the
stored checks, and the cosine similarities move by less than 0.01.
"""

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

NEIGHBOURS = 10  # enough to smooth over one near-duplicate, few enough to follow small topics
_SCALE = 127.0


@dataclass(frozen=True)
class NeighbourDistance:
    """Training vectors (int8) and how many nearest ones to average over."""

    reference: np.ndarray  # (n, dim) int8
    neighbours: int = NEIGHBOURS
    # The kind of MiniLM vectors the reference was made from ("fp32" or "int8", ml.minilm_backends):
    # a checked text is encoded the same way, so its distance is measured like the reference's.
    precision: str = "fp32"

    @classmethod
    def fit(cls, vectors: np.ndarray, neighbours: int = NEIGHBOURS, precision: str = "fp32") -> "NeighbourDistance":
        if len(vectors) == 0:
            raise ValueError("need at least one training vector")
        quantised = np.clip(np.round(np.asarray(vectors, dtype=np.float32) * _SCALE), -127, 127).astype(np.int8)
        return cls(reference=quantised, neighbours=neighbours, precision=precision)

    # Computed once per loaded check, not per call: a batch checks its items a chunk at a time.
    # (cached_property writes into the instance __dict__, which a frozen dataclass allows.)
    @cached_property
    def _unit_reference(self) -> np.ndarray:
        reference = self.reference.astype(np.float32)
        unit: np.ndarray = reference / np.maximum(np.linalg.norm(reference, axis=1, keepdims=True), 1e-12)
        return unit

    def distances(self, vectors: np.ndarray) -> np.ndarray:
        """``1 - mean cosine similarity`` of each row of ``vectors`` to its nearest reference vectors."""
        reference = self._unit_reference
        similarities = np.asarray(vectors, dtype=np.float32) @ reference.T
        count = min(self.neighbours, reference.shape[0])
        nearest = -np.partition(-similarities, count - 1, axis=1)[:, :count]
        return np.asarray(1.0 - nearest.mean(axis=1), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        return {
            "neighbours": self.neighbours,
            "precision": self.precision,
            "shape": list(self.reference.shape),
            "int8": base64.b64encode(self.reference.tobytes()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NeighbourDistance":
        rows, dim = (int(n) for n in data["shape"])
        raw = np.frombuffer(base64.b64decode(data["int8"]), dtype=np.int8)
        if raw.size != rows * dim:
            raise ValueError(f"reference vectors: expected {rows} x {dim} values, found {raw.size}")
        # Checks stored before the precision was recorded were made from fp32 vectors (ml.minilm).
        precision = str(data.get("precision", "fp32"))
        return cls(reference=raw.reshape(rows, dim).copy(), neighbours=int(data["neighbours"]), precision=precision)


def out_of_fold_distances(
    vectors: np.ndarray,
    *,
    folds: int = 5,
    random_state: int = 0,
    splits: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
) -> np.ndarray:
    """Each training vector's distance to the *other* folds' vectors (to itself it would be 0).

    ``splits``: (reference rows, scored rows) pairs to use instead of ``folds`` random folds, e.g. each
    block of consecutive texts in time against the others; a row no split scores is NaN.
    """
    from sklearn.model_selection import KFold

    vectors = np.asarray(vectors, dtype=np.float32)
    if splits is None:
        splits = list(KFold(min(folds, len(vectors)), shuffle=True, random_state=random_state).split(vectors))
    distances = np.full(len(vectors), np.nan)
    for fit_part, score_part in splits:
        distances[score_part] = NeighbourDistance.fit(vectors[fit_part]).distances(vectors[score_part])
    return distances
