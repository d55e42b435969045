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

from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from ml.embeddings import SentenceEmbedder
from ml.linear_runtime import WORD_CACHE_SIZE as WORD_CACHE_SIZE
from ml.linear_runtime import Block as _Block
from ml.linear_runtime import CalibratedLinear as _CalibratedLinear
from ml.linear_runtime import CompiledLinear as CompiledLinear
from ml.linear_runtime import EncoderWrapper as EncoderWrapper
from ml.linear_runtime import (
    embedding_encoder,
    isotonic_calibrator,
    sigmoid_calibrator,
    tfidf_encoder,
    with_offsets,
)
from ml.minilm_backends import TextEncoder
from ml.static_embedding import StaticEmbedder


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
        return with_offsets(blocks) if blocks else None
    block = _compile_block(step, weight=None, wrap_encoder=wrap_encoder)
    return None if block is None else [block]


def _compile_block(step: object, *, weight: float | None, wrap_encoder: EncoderWrapper | None) -> _Block | None:
    weight = None if weight is None else float(weight)
    if isinstance(step, TfidfVectorizer) and type(step).transform is TfidfVectorizer.transform:
        encode = _compile_tfidf(step)
        return None if encode is None else _Block(width=len(step.vocabulary_), offset=0, weight=weight, encode=encode)
    # MiniLMEmbedder too: the same transform with ml.minilm's encoder.
    if isinstance(step, SentenceEmbedder) and type(step).transform is SentenceEmbedder.transform:
        check_is_fitted(step, "n_features_out_")
        encoder = step.text_encoder()
        if wrap_encoder is not None:  # same identity (the cache's key), its function wrapped
            encoder = TextEncoder(encoder.identity, wrap_encoder(encoder.encode))
        embed = embedding_encoder(step.n_features_out_, encoder)
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
    return tfidf_encoder(
        term_columns, idf=idf, binary=vectorizer.binary, sublinear=vectorizer.sublinear_tf, norm=vectorizer.norm
    )


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


# Classifier -----------------------------------------------------------------------------------


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
        return sigmoid_calibrator(float(calibrator.a_), float(calibrator.b_))
    if type(calibrator) is IsotonicRegression and calibrator.out_of_bounds == "clip":
        return isotonic_calibrator(
            float(calibrator.X_min_),
            float(calibrator.X_max_),
            np.asarray(calibrator.X_thresholds_, dtype=np.float64),
            np.asarray(calibrator.y_thresholds_, dtype=np.float64),
        )
    return None


# The serving form ------------------------------------------------------------------------------


def serving_form_bytes(model: object) -> bytes | None:
    """``model``'s serving form (:mod:`ml.serving_form`), or None when it holds a part the form cannot describe.

    What :func:`compile_pipeline` compiles, as arrays and JSON: TF-IDF blocks with scikit-learn's own ``word`` or
    ``char_wb`` analyzer (no accent stripping, stop words, custom preprocessor or tokenizer), MiniLM embedding
    blocks, and a calibrated plain linear classifier (sigmoid or isotonic).
    """
    from ml.embeddings import MiniLMEmbedder  # noqa: PLC0415
    from ml.serving_form import pack_serving_form  # noqa: PLC0415

    if compile_pipeline(model) is None or not isinstance(model, Pipeline):
        return None
    (_, features), (_, classifier) = model.steps
    arrays: dict[str, np.ndarray] = {}
    if isinstance(features, FeatureUnion):
        weights = features.transformer_weights or {}
        parts = [(part, weights.get(name)) for name, part in features.transformer_list if not _is_drop(part)]
    else:
        parts = [(features, None)]
    blocks = []
    for index, (part, weight) in enumerate(parts):
        block: dict[str, Any] | None
        if type(part) is MiniLMEmbedder:
            block = {
                "kind": "minilm",
                "width": int(part.n_features_out_),
                "precision": str(getattr(part, "precision_", "fp32")),
            }
        else:
            block = _tfidf_spec(part, arrays, index)
        if block is None:
            return None
        blocks.append({**block, "weight": None if weight is None else float(weight)})
    classifiers = []
    for index, calibrated in enumerate(classifier.calibrated_classifiers_):
        estimator = calibrated.estimator
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        classes = list(np.asarray(calibrated.classes))
        positions = [1] if len(classes) == 2 else [classes.index(label) for label in estimator.classes_]
        calibrators = []
        for k, calibrator in enumerate(calibrated.calibrators):
            if type(calibrator) is _SigmoidCalibration:
                calibrators.append({"kind": "sigmoid", "a": float(calibrator.a_), "b": float(calibrator.b_)})
            else:  # the compiler accepted it: isotonic with out_of_bounds="clip"
                calibrators.append(
                    {"kind": "isotonic", "low": float(calibrator.X_min_), "high": float(calibrator.X_max_)}
                )
                arrays[f"classifier{index}_calibrator{k}_x"] = np.asarray(calibrator.X_thresholds_, dtype=np.float64)
                arrays[f"classifier{index}_calibrator{k}_y"] = np.asarray(calibrator.y_thresholds_, dtype=np.float64)
        arrays[f"classifier{index}_coef_t"] = np.ascontiguousarray(coef.T)
        arrays[f"classifier{index}_intercept"] = np.broadcast_to(
            np.asarray(estimator.intercept_, dtype=np.float64), (coef.shape[0],)
        ).copy()
        classifiers.append({"positions": positions, "calibrators": calibrators})
    spec = {"classes": [str(label) for label in classifier.classes_], "blocks": blocks, "classifiers": classifiers}
    return pack_serving_form(spec, arrays)


def _is_drop(part: object) -> bool:
    return isinstance(part, str) and part == "drop"


# The analyzer's pieces a serving form reimplements: a subclass overriding any of them keeps the pipeline.
_ANALYZER_METHODS = (
    "build_analyzer",
    "build_preprocessor",
    "build_tokenizer",
    "decode",
    "_char_wb_ngrams",
    "_word_ngrams",
)


def _tfidf_spec(vectorizer: object, arrays: dict[str, np.ndarray], index: int) -> dict[str, Any] | None:
    if not isinstance(vectorizer, TfidfVectorizer) or type(vectorizer).transform is not TfidfVectorizer.transform:
        return None
    if any(getattr(type(vectorizer), name) is not getattr(TfidfVectorizer, name) for name in _ANALYZER_METHODS):
        return None
    plain = (
        vectorizer.input == "content"
        and vectorizer.preprocessor is None
        and vectorizer.tokenizer is None
        and not vectorizer.strip_accents
        and vectorizer.stop_words is None
        and vectorizer.analyzer in ("char_wb", "word")
    )
    if not plain:
        return None
    vocabulary = vectorizer.vocabulary_
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    if any(vocabulary[term] != column for column, term in enumerate(terms)):
        return None
    if vectorizer.use_idf:
        arrays[f"block{index}_idf"] = np.asarray(vectorizer.idf_, dtype=np.float64)
    return {
        "kind": "tfidf",
        "analyzer": vectorizer.analyzer,
        "ngram_range": [int(n) for n in vectorizer.ngram_range],
        "lowercase": bool(vectorizer.lowercase),
        "token_pattern": vectorizer.token_pattern,
        "binary": bool(vectorizer.binary),
        "sublinear_tf": bool(vectorizer.sublinear_tf),
        "norm": vectorizer.norm,
        "use_idf": bool(vectorizer.use_idf),
        "terms": terms,
    }
