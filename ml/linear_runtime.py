"""What a compiled linear model evaluates for one text, in plain numpy: no scikit-learn here.

:mod:`ml.compiled` builds these parts from a fitted scikit-learn pipeline as a process loads it;
:mod:`ml.serving_form` builds the same parts from the arrays and JSON stored beside the artifact, so a
web process answers without importing scikit-learn (or SciPy and pandas through it) or skops.
"""

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:
    from ml.minilm_backends import TextEncoder

# Distinct words whose char n-gram columns each compiled vectorizer keeps (a few hundred bytes each).
WORD_CACHE_SIZE = 20_000
# Wraps an encoder (texts -> vectors) for serving, e.g. ml.batching.MicroBatcher.
EncoderWrapper = Callable[[Callable[[Sequence[str]], np.ndarray]], Callable[[Sequence[str]], np.ndarray]]
# A text -> (columns, values) of one block of features.
Encode = Callable[[str], tuple[np.ndarray, np.ndarray]]


class CompiledLinear:
    """``predict_proba`` of a text -> features -> calibrated linear classifier pipeline.

    Same answers as the pipeline's ``predict_proba`` (to rounding), without its checks.
    """

    def __init__(self, *, blocks: list["Block"], classifiers: list["CalibratedLinear"], classes: np.ndarray):
        self._blocks = blocks
        self._classifiers = classifiers
        self.classes_ = classes

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of class probabilities in ``classes_`` order, one per prepared text."""
        if isinstance(texts, str):
            raise ValueError("expected a list of texts, got a single string")
        rows = [self._one(text) for text in texts]
        return np.vstack(rows) if rows else np.zeros((0, len(self.classes_)))

    def _one(self, text: str) -> np.ndarray:
        features = [block.features(text) for block in self._blocks]
        if len(self._classifiers) == 1:  # ensemble=False, the default: nothing to average
            return self._classifiers[0].predict_proba(features)
        proba = sum(classifier.predict_proba(features) for classifier in self._classifiers)
        # CalibratedClassifierCV averages its calibrated classifiers (one with ensemble=False).
        # (sum() starts from 0, so its type says int too; there is always one classifier at least.)
        return cast(np.ndarray, proba / len(self._classifiers))


@dataclass
class Block:
    """One part of the feature union: a text -> (columns, values) in the union's columns."""

    width: int
    offset: int
    weight: float | None
    encode: Encode

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        columns, values = self.encode(text)
        if self.weight is not None:
            values = values * self.weight
        return columns + self.offset, values


def with_offsets(blocks: list[Block]) -> list[Block]:
    offset = 0
    for block in blocks:
        block.offset = offset
        offset += block.width
    return blocks


def tfidf_encoder(
    term_columns: Callable[[str], Iterable[int | None]],
    *,
    idf: np.ndarray | None,
    binary: bool,
    sublinear: bool,
    norm: str | None,
) -> Encode:
    """A TfidfVectorizer's transform of one text, given the vocabulary column of each of its terms."""

    def encode(text: str) -> tuple[np.ndarray, np.ndarray]:
        # Counted in C (Counter); columns in first-seen order, as a loop over the terms would
        # add them, so the sums below are the same to the bit. None counts the unknown terms.
        counts = Counter(term_columns(text))
        counts.pop(None, None)
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if binary:
            values[:] = 1.0
        if sublinear:
            values = np.log(values) + 1.0
        if idf is not None:
            values = values * idf[columns]
        return columns, normalised(values, norm)

    return encode


def normalised(values: np.ndarray, norm: str | None) -> np.ndarray:
    if norm is None:
        return values
    total = np.sqrt(values @ values) if norm == "l2" else np.abs(values).sum()
    # A row with no known term stays all zeros, as sklearn's normalize leaves it.
    return values / total if total != 0 else values


def embedding_encoder(width: int, encoder: "TextEncoder") -> Encode:
    """A sentence embedding block: the encoder through the per-text cache."""
    # ml.embeddings defines the scikit-learn pipeline step too: imported when an embedding model is served.
    from ml.embeddings import cached_encode  # noqa: PLC0415

    columns = np.arange(width)

    def embed(text: str) -> tuple[np.ndarray, np.ndarray]:
        # The encoder itself is the cost here; its per-text cache still applies.
        return columns, np.asarray(cached_encode([text], encoder=encoder)[0], dtype=np.float64)

    return embed


class CalibratedLinear:
    """One of CalibratedClassifierCV's calibrated classifiers: scores, calibrators, normalisation."""

    def __init__(
        self,
        *,
        coef_t: np.ndarray,
        intercept: np.ndarray,
        calibrate: list[Callable[[float], float]],
        positions: np.ndarray,
        n_classes: int,
    ):
        self._coef_t = coef_t  # (n_features, n_scores), rows gathered per text
        self._intercept = intercept
        self._calibrate = calibrate
        self._positions = positions  # the class column each score's calibrator fills
        self._n_classes = n_classes

    def predict_proba(self, features: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        scores = self._intercept.copy()
        for columns, values in features:
            if len(columns):
                scores += values @ self._coef_t[columns]
        proba = np.zeros(self._n_classes)
        # Python floats (the same doubles): the calibrators' scalar arithmetic is faster on them.
        for position, calibrate, score in zip(self._positions, self._calibrate, scores.tolist()):
            proba[position] = calibrate(score)
        if self._n_classes == 2:
            proba[0] = 1.0 - proba[1]
        else:
            total = proba.sum()
            proba = proba / total if total != 0 else np.full(self._n_classes, 1.0 / self._n_classes)
        # As sklearn does: a probability a hair above 1 from rounding is 1.
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


def sigmoid_calibrator(a: float, b: float) -> Callable[[float], float]:
    """scikit-learn's _SigmoidCalibration: 1 / (1 + exp(a * score + b))."""
    return lambda score: expit(-(a * score + b))


def isotonic_calibrator(low: float, high: float, xs: np.ndarray, ys: np.ndarray) -> Callable[[float], float]:
    """scikit-learn's IsotonicRegression with out_of_bounds="clip"."""
    if len(xs) == 1:  # sklearn predicts the constant when it saw a single threshold
        constant = float(ys[0])
        return lambda score: constant
    return lambda score: float(np.interp(min(max(score, low), high), xs, ys))


def expit(x: float) -> float:
    # The logistic function on one float, without a ufunc call per class; the branch
    # keeps exp's argument negative so it never overflows.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
