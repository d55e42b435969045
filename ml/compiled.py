"""A fitted linear pipeline compiled to plain numpy for one text at a time.

scikit-learn re-validates its input at every step of every call: for one text,
the checks (is it a dataframe? which array namespace? finite? fitted?) cost
more than the arithmetic.  A tfidf-linear model is a short formula once
fitted: count the analyzer's terms found in the vocabulary, apply tf
damping, idf and the norm per block, take the dot product with the SVC's
coefficients, and map each class's score through its calibrator.  That is
what :class:`CompiledLinear` evaluates, with the fitted arrays taken from the
pipeline once, when a process loads it.

Only what is recognised is compiled: :func:`compile_pipeline` returns None for
anything else (a subclass that overrides ``transform``, float32 features, a
passthrough part, an uncalibrated fallback), and the caller keeps using the
pipeline.  Tokenising is the vectorizer's own analyzer, so terms are the same by
construction; tests/ml/test_ml_compiled.py proves the probabilities equal
scikit-learn's on the whole dataset.
"""

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any, cast

import numpy as np
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from ml.embeddings import SentenceEmbedder, cached_encode
from ml.minilm_backends import TextEncoder
from ml.static_embedding import StaticEmbedder

# Distinct words whose char n-gram columns each compiled vectorizer keeps (a few hundred bytes each).
WORD_CACHE_SIZE = 20_000
# Wraps an encoder (texts -> vectors) for serving, e.g. ml.batching.MicroBatcher.
EncoderWrapper = Callable[[Callable[[Sequence[str]], np.ndarray]], Callable[[Sequence[str]], np.ndarray]]


class CompiledLinear:
    """``predict_proba`` of a text -> features -> calibrated linear classifier pipeline.

    Same answers as the pipeline's ``predict_proba`` (to rounding), without its checks.
    """

    def __init__(self, *, blocks: list["_Block"], classifiers: list["_CalibratedLinear"], classes: np.ndarray):
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


def compile_pipeline(model: object, *, wrap_encoder: EncoderWrapper | None = None) -> CompiledLinear | None:
    """The compiled form of ``model``, or None when it holds a step this module does not know.

    ``wrap_encoder`` wraps a sentence encoder's function (after the per-text cache), e.g. to
    batch the texts of concurrent requests (ml.batching).
    """
    if not isinstance(model, Pipeline) or len(model.steps) != 2:
        return None
    (_, features), (_, classifier) = model.steps
    blocks = _compile_features(features, wrap_encoder)
    if blocks is None or not isinstance(classifier, CalibratedClassifierCV):
        return None
    check_is_fitted(classifier)
    n_features = sum(block.width for block in blocks)
    parts = [_compile_calibrated(part, n_features=n_features) for part in classifier.calibrated_classifiers_]
    classifiers = [part for part in parts if part is not None]
    if not classifiers or len(classifiers) != len(parts):
        return None
    return CompiledLinear(blocks=blocks, classifiers=classifiers, classes=np.asarray(classifier.classes_))


# Features -------------------------------------------------------------------------------------


@dataclass
class _Block:
    """One part of the feature union: a text -> (columns, values) in the union's columns."""

    width: int
    offset: int
    weight: float | None
    encode: Callable[[str], tuple[np.ndarray, np.ndarray]]

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        columns, values = self.encode(text)
        if self.weight is not None:
            values = values * self.weight
        return columns + self.offset, values


def _compile_features(step: object, wrap_encoder: EncoderWrapper | None) -> list[_Block] | None:
    if isinstance(step, FeatureUnion):
        if step.n_jobs not in (None, 1):
            return None
        weights = step.transformer_weights or {}
        blocks = []
        for name, part in step.transformer_list:
            if isinstance(part, str) and part == "drop":
                continue  # the union leaves dropped parts out of its columns
            block = _compile_block(part, weight=weights.get(name), wrap_encoder=wrap_encoder)
            if block is None:
                return None
            blocks.append(block)
        return _offsets(blocks) if blocks else None
    block = _compile_block(step, weight=None, wrap_encoder=wrap_encoder)
    return None if block is None else [block]


def _offsets(blocks: list[_Block]) -> list[_Block]:
    offset = 0
    for block in blocks:
        block.offset = offset
        offset += block.width
    return blocks


def _compile_block(step: object, *, weight: float | None, wrap_encoder: EncoderWrapper | None) -> _Block | None:
    weight = None if weight is None else float(weight)
    if isinstance(step, TfidfVectorizer) and type(step).transform is TfidfVectorizer.transform:
        encode = _compile_tfidf(step)
        return None if encode is None else _Block(width=len(step.vocabulary_), offset=0, weight=weight, encode=encode)
    # MiniLMEmbedder too: the same transform with ml.minilm's encoder.
    if isinstance(step, SentenceEmbedder) and type(step).transform is SentenceEmbedder.transform:
        check_is_fitted(step, "n_features_out_")
        columns = np.arange(step.n_features_out_)
        encoder = step.text_encoder()
        if wrap_encoder is not None:  # same identity (the cache's key), its function wrapped
            encoder = TextEncoder(encoder.identity, wrap_encoder(encoder.encode))

        def embed(text: str) -> tuple[np.ndarray, np.ndarray]:
            # The encoder itself is the cost here; its per-text cache still applies.
            return columns, np.asarray(cached_encode([text], encoder=encoder)[0], dtype=np.float64)

        return _Block(width=step.n_features_out_, offset=0, weight=weight, encode=embed)
    if isinstance(step, StaticEmbedder) and type(step).transform is StaticEmbedder.transform:
        check_is_fitted(step, "vectors_")
        static_columns = np.arange(step.n_features_out_)

        def static(text: str) -> tuple[np.ndarray, np.ndarray]:
            return static_columns, np.asarray(step.transform([text])[0], dtype=np.float64)

        return _Block(width=step.n_features_out_, offset=0, weight=weight, encode=static)
    return None


def _compile_tfidf(vectorizer: TfidfVectorizer) -> Callable[[str], tuple[np.ndarray, np.ndarray]] | None:
    check_is_fitted(vectorizer, "vocabulary_")
    if np.dtype(vectorizer.dtype) != np.float64 or vectorizer.norm not in ("l2", "l1", None):
        return None
    term_columns = _term_columns(vectorizer)
    idf = np.asarray(vectorizer.idf_, dtype=np.float64) if vectorizer.use_idf else None
    binary, sublinear, norm = vectorizer.binary, vectorizer.sublinear_tf, vectorizer.norm

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
        return columns, _normalised(values, norm)

    return encode


def _term_columns(vectorizer: TfidfVectorizer) -> Callable[[str], Iterable[int | None]]:
    """The vocabulary column of every term the vectorizer's own analyzer makes of a text (None: unknown).

    Character n-grams within word boundaries (``char_wb``) are made word by word, so a text's
    terms are its words' terms one after the other: those are looked up once per distinct word
    and kept (most words of new texts were seen before), instead of ~500 lookups in a vocabulary
    of ~100,000 terms per text, which were the biggest cost of a prediction. The words are split
    and each one's n-grams made by the vectorizer's own code, so the terms are the same.
    """
    vocabulary = vectorizer.vocabulary_
    if not _is_plain_char_wb(vectorizer):
        analyze = vectorizer.build_analyzer()
        return lambda text: map(vocabulary.get, analyze(text))
    preprocess, decode, ngrams = vectorizer.build_preprocessor(), vectorizer.decode, vectorizer._char_wb_ngrams

    @lru_cache(maxsize=WORD_CACHE_SIZE)
    def word_columns(word: str) -> tuple[int | None, ...]:
        return tuple(map(vocabulary.get, ngrams(word)))

    def text_columns(text: str) -> Iterable[int | None]:
        # What _char_wb_ngrams does to the whole text: split on whitespace, n-grams of each word.
        return chain.from_iterable(map(word_columns, preprocess(decode(text)).split()))

    return text_columns


def _is_plain_char_wb(vectorizer: TfidfVectorizer) -> bool:
    # scikit-learn's own analyzer: char_wb n-grams after its preprocessor, nothing overridden.
    return (
        vectorizer.analyzer == "char_wb"
        and type(vectorizer).build_analyzer is TfidfVectorizer.build_analyzer
        and type(vectorizer)._char_wb_ngrams is TfidfVectorizer._char_wb_ngrams
    )


def _normalised(values: np.ndarray, norm: str | None) -> np.ndarray:
    if norm is None:
        return values
    total = np.sqrt(values @ values) if norm == "l2" else np.abs(values).sum()
    # A row with no known term stays all zeros, as sklearn's normalize leaves it.
    return values / total if total != 0 else values


# Classifier -----------------------------------------------------------------------------------


class _CalibratedLinear:
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


def _compile_calibrated(calibrated: Any, *, n_features: int) -> _CalibratedLinear | None:
    estimator = calibrated.estimator
    if calibrated.method not in ("sigmoid", "isotonic") or not _is_plain_linear(estimator):
        return None
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    if coef.ndim != 2 or coef.shape[1] != n_features:
        return None
    functions = [_compile_calibrator(calibrator) for calibrator in calibrated.calibrators]
    calibrate = [function for function in functions if function is not None]
    if len(calibrate) != len(functions):
        return None
    classes = list(np.asarray(calibrated.classes))
    positions = np.array([classes.index(label) for label in estimator.classes_])
    n_classes = len(classes)
    if n_classes == 2:
        positions = np.array([1])  # binary: one score, for the second class
    if len(positions) != coef.shape[0] or len(calibrate) != coef.shape[0]:
        return None
    return _CalibratedLinear(
        coef_t=np.ascontiguousarray(coef.T),
        intercept=np.broadcast_to(np.asarray(estimator.intercept_, dtype=np.float64), (coef.shape[0],)).copy(),
        calibrate=calibrate,
        positions=positions,
        n_classes=n_classes,
    )


def _is_plain_linear(estimator: object) -> bool:
    # decision_function = X @ coef_.T + intercept_, unless a class defines its own.
    return (
        isinstance(estimator, LinearClassifierMixin)
        and type(estimator).decision_function is LinearClassifierMixin.decision_function
    )


def _compile_calibrator(calibrator: Any) -> Callable[[float], float] | None:
    if type(calibrator) is _SigmoidCalibration:
        a, b = float(calibrator.a_), float(calibrator.b_)
        return lambda score: _expit(-(a * score + b))
    if type(calibrator) is IsotonicRegression and calibrator.out_of_bounds == "clip":
        low, high = float(calibrator.X_min_), float(calibrator.X_max_)
        xs = np.asarray(calibrator.X_thresholds_, dtype=np.float64)
        ys = np.asarray(calibrator.y_thresholds_, dtype=np.float64)
        if len(xs) == 1:  # sklearn predicts the constant when it saw a single threshold
            return lambda score: float(ys[0])
        return lambda score: float(np.interp(min(max(score, low), high), xs, ys))
    return None


def _expit(x: float) -> float:
    # The logistic function on one float, without a ufunc call per class; the branch
    # keeps exp's argument negative so it never overflows.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
