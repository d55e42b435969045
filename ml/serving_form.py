"""A compiled linear model's serving form: numpy arrays and JSON, loaded without scikit-learn or skops.

A web process used to load a version's skops artifact and compile it (:mod:`ml.compiled`) before it could
answer: skops's import lists every scikit-learn estimator (importing all of scikit-learn, SciPy and pandas),
which was most of a web process's boot. What the compiled model evaluates is a short formula over a few
arrays (the vocabularies, idf, the classifier's coefficients, the calibrators' parameters), so the worker
that trains a version also writes those, beside the artifact (:func:`ml.compiled.serving_form_bytes`), and a
web process builds the same :class:`ml.linear_runtime.CompiledLinear` from them (:func:`load_serving_form`).

The bytes are an ``.npz`` (a zip of ``.npy`` arrays, read with ``allow_pickle=False``: no object arrays, no
code) holding a ``spec`` (UTF-8 JSON: the blocks, their vocabularies and settings, the calibrators) and the
float arrays. The analyzers below are scikit-learn's ``char_wb`` and ``word`` analyzers for the settings the
compiler accepts (lowercase or not, no accent stripping, stop words, custom preprocessor or tokenizer);
tests/ml/test_ml_serving_form.py proves the probabilities equal scikit-learn's on the whole dataset.
"""

import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np

from ml.linear_runtime import (
    WORD_CACHE_SIZE,
    Block,
    CalibratedLinear,
    CompiledLinear,
    Encode,
    EncoderWrapper,
    embedding_encoder,
    isotonic_calibrator,
    sigmoid_calibrator,
    tfidf_encoder,
    with_offsets,
)

FORMAT = 1
ANALYZERS = ("char_wb", "word")


class ServingFormError(ValueError):
    """The bytes are not a serving form this module reads."""


def pack_serving_form(spec: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of a serving form: ``spec`` as JSON, ``arrays`` (float64) beside it."""
    buffer = io.BytesIO()
    spec_bytes = json.dumps({**spec, "format": FORMAT}, ensure_ascii=False, allow_nan=False).encode("utf-8")
    everything = {"spec": np.frombuffer(spec_bytes, dtype=np.uint8), **arrays}
    np.savez_compressed(buffer, allow_pickle=False, **everything)
    return buffer.getvalue()


def load_serving_form(payload: bytes, *, wrap_encoder: EncoderWrapper | None = None) -> CompiledLinear:
    """The compiled model the bytes describe; ServingFormError if they are not a serving form of this format.

    ``wrap_encoder`` wraps a sentence encoder's function, as :func:`ml.compiled.compile_pipeline`'s does.
    """
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        spec = json.loads(arrays.pop("spec").tobytes().decode("utf-8"))
        if spec.get("format") != FORMAT:
            raise ServingFormError(f"serving form format {spec.get('format')!r}, this code reads {FORMAT}")
        blocks = with_offsets([_block(part, arrays, index, wrap_encoder) for index, part in enumerate(spec["blocks"])])
        n_features = sum(block.width for block in blocks)
        classes = np.asarray([str(label) for label in spec["classes"]])
        classifiers = [
            _classifier(part, arrays, index, n_features=n_features, n_classes=len(classes))
            for index, part in enumerate(spec["classifiers"])
        ]
    except ServingFormError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        raise ServingFormError(f"not a readable serving form ({type(error).__name__}: {error})") from error
    if not blocks or not classifiers:
        raise ServingFormError("a serving form without features or classifier")
    return CompiledLinear(blocks=blocks, classifiers=classifiers, classes=classes)


def _float_array(arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    array = arrays[name]
    if array.dtype != np.float64 or array.shape != shape:
        raise ServingFormError(f"{name}: {array.dtype} {array.shape}, expected float64 {shape}")
    return np.ascontiguousarray(array)


def _block(
    part: dict[str, Any], arrays: dict[str, np.ndarray], index: int, wrap_encoder: EncoderWrapper | None
) -> Block:
    weight = None if part["weight"] is None else float(part["weight"])
    kind = part["kind"]
    if kind == "tfidf":
        terms = part["terms"]
        if not all(isinstance(term, str) for term in terms):
            raise ServingFormError(f"block {index}: a term that is not a string")
        vocabulary = {term: column for column, term in enumerate(terms)}
        if len(vocabulary) != len(terms):
            raise ServingFormError(f"block {index}: a term listed twice")
        idf = _float_array(arrays, f"block{index}_idf", (len(terms),)) if part["use_idf"] else None
        if part["norm"] not in ("l2", "l1", None):
            raise ServingFormError(f"block {index}: norm {part['norm']!r}")
        encode = tfidf_encoder(
            term_columns(
                vocabulary,
                analyzer=part["analyzer"],
                ngram_range=(int(part["ngram_range"][0]), int(part["ngram_range"][1])),
                lowercase=bool(part["lowercase"]),
                token_pattern=part.get("token_pattern"),
            ),
            idf=idf,
            binary=bool(part["binary"]),
            sublinear=bool(part["sublinear_tf"]),
            norm=part["norm"],
        )
        return Block(width=len(terms), offset=0, weight=weight, encode=encode)
    if kind == "minilm":
        return Block(
            width=int(part["width"]),
            offset=0,
            weight=weight,
            encode=_minilm_encode(int(part["width"]), str(part["precision"]), wrap_encoder),
        )
    raise ServingFormError(f"block {index}: unknown kind {kind!r}")


def _minilm_encode(width: int, precision: str, wrap_encoder: EncoderWrapper | None) -> Encode:
    from ml.minilm_backends import TextEncoder, encoder_for  # noqa: PLC0415 - only an embedding model needs it

    if precision not in ("fp32", "int8"):
        raise ServingFormError(f"MiniLM precision {precision!r}")
    encoder = encoder_for(precision)
    if wrap_encoder is not None:  # same identity (the cache's key), its function wrapped
        encoder = TextEncoder(encoder.identity, wrap_encoder(encoder.encode))
    return embedding_encoder(width, encoder)


def _classifier(
    part: dict[str, Any], arrays: dict[str, np.ndarray], index: int, *, n_features: int, n_classes: int
) -> CalibratedLinear:
    positions = np.asarray([int(position) for position in part["positions"]], dtype=np.intp)
    n_scores = len(positions)
    if not n_scores or positions.min() < 0 or positions.max() >= n_classes:
        raise ServingFormError(f"classifier {index}: positions {positions.tolist()} for {n_classes} classes")
    coef_t = _float_array(arrays, f"classifier{index}_coef_t", (n_features, n_scores))
    intercept = _float_array(arrays, f"classifier{index}_intercept", (n_scores,)).copy()
    if len(part["calibrators"]) != n_scores:
        raise ServingFormError(f"classifier {index}: {len(part['calibrators'])} calibrators for {n_scores} scores")
    calibrate = []
    for k, calibrator in enumerate(part["calibrators"]):
        if calibrator["kind"] == "sigmoid":
            calibrate.append(sigmoid_calibrator(float(calibrator["a"]), float(calibrator["b"])))
        elif calibrator["kind"] == "isotonic":
            name = f"classifier{index}_calibrator{k}"
            xs = arrays[f"{name}_x"]
            ys = _float_array(arrays, f"{name}_y", xs.shape)
            _float_array(arrays, f"{name}_x", (len(xs),))
            calibrate.append(isotonic_calibrator(float(calibrator["low"]), float(calibrator["high"]), xs, ys))
        else:
            raise ServingFormError(f"classifier {index}: calibrator kind {calibrator['kind']!r}")
    return CalibratedLinear(
        coef_t=coef_t, intercept=intercept, calibrate=calibrate, positions=positions, n_classes=n_classes
    )


# Analyzers -----------------------------------------------------------------------------------


def term_columns(
    vocabulary: dict[str, int],
    *,
    analyzer: str,
    ngram_range: tuple[int, int],
    lowercase: bool,
    token_pattern: str | None = None,
) -> Callable[[str], Iterable[int | None]]:
    """The vocabulary column of every term scikit-learn's analyzer would make of a text, in its order (None: unknown).

    Only what the compiler writes: a string input, no accent stripping, stop words, preprocessor or tokenizer.
    """
    min_n, max_n = ngram_range
    if not 1 <= min_n <= max_n:
        raise ServingFormError(f"ngram_range {ngram_range}")
    if analyzer == "char_wb":
        return _char_wb_columns(vocabulary, min_n, max_n, lowercase)
    if analyzer == "word":
        if token_pattern is None:
            raise ServingFormError("a word analyzer without its token pattern")
        pattern = re.compile(token_pattern)
        if pattern.groups > 1:
            raise ServingFormError("a token pattern with more than one group")
        return _word_columns(vocabulary, min_n, max_n, lowercase, pattern)
    raise ServingFormError(f"analyzer {analyzer!r}")


def _char_wb_columns(
    vocabulary: dict[str, int], min_n: int, max_n: int, lowercase: bool
) -> Callable[[str], Iterable[int | None]]:
    # scikit-learn pads each whitespace-separated word with a space on both sides and takes its n-grams,
    # n from min_n to max_n, left to right (a word shorter than n gives itself once, and no longer n).
    # A text's terms are its words' terms in order, so each distinct word's columns are kept.
    lookup = vocabulary.get

    @lru_cache(maxsize=WORD_CACHE_SIZE)
    def word_columns(word: str) -> tuple[int | None, ...]:
        padded = f" {word} "
        length = len(padded)
        grams = []
        for n in range(min_n, max_n + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < length:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:
                break
        return tuple(map(lookup, grams))

    def text_columns(text: str) -> Iterable[int | None]:
        return chain.from_iterable(map(word_columns, (text.lower() if lowercase else text).split()))

    return text_columns


def _word_columns(
    vocabulary: dict[str, int], min_n: int, max_n: int, lowercase: bool, pattern: re.Pattern[str]
) -> Callable[[str], Iterable[int | None]]:
    lookup, findall = vocabulary.get, pattern.findall

    def text_columns(text: str) -> Iterable[int | None]:
        tokens: Sequence[str] = findall(text.lower() if lowercase else text)
        return map(lookup, _word_ngrams(tokens, min_n, max_n))

    return text_columns


def _word_ngrams(tokens: Sequence[str], min_n: int, max_n: int) -> list[str]:
    # scikit-learn's order: the tokens themselves (n = 1), then every 2-gram, every 3-gram...
    grams = list(tokens) if min_n == 1 else []
    count = len(tokens)
    for n in range(max(min_n, 2), min(max_n, count) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(count - n + 1))
    return grams
