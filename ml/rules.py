"""A hand-written keyword baseline, packaged as a scikit-learn classifier.

It exists so learned models have an honest, explainable bar to beat, and so
the system has something sensible to run before anyone has labelled data.
Because it is a real estimator it can sit in a ``Pipeline``, be evaluated and
persisted exactly like the learned models.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

# The keywords and their matching live in ml.keywords (no scikit-learn); re-exported here, where they always were.
from ml.keywords import KEYWORDS as KEYWORDS
from ml.keywords import ClassPatterns as ClassPatterns
from ml.keywords import count_keyword_hits as count_keyword_hits
from ml.keywords import default_class_patterns as default_class_patterns
from ml.keywords import keyword_hits as keyword_hits


class KeywordClassifier(ClassifierMixin, BaseEstimator):
    """Scores each class by keyword hits, smoothed towards the training prior.

    ``smoothing`` is a pseudo-count spread over the classes in proportion to
    their training frequency: with no hits the prediction is the most
    frequent training tag (the fallback), ties go to the more frequent tag,
    and no probability is ever exactly 0 or 1.
    """

    def __init__(self, keywords: Mapping[str, Sequence[str]] | None = None, smoothing: float = 1.0):
        self.keywords = keywords
        self.smoothing = smoothing

    def fit(self, X: Iterable[object], y: ArrayLike) -> "KeywordClassifier":
        texts, labels = _as_texts(X), np.asarray(y)
        if len(texts) != len(labels):
            raise ValueError(f"X has {len(texts)} texts but y has {len(labels)} labels")
        if len(labels) == 0:
            raise ValueError("cannot fit on an empty training set")
        if self.smoothing <= 0:
            raise ValueError("smoothing must be positive so no probability is exactly 0")
        self.classes_, counts = np.unique(labels, return_counts=True)
        self.class_prior_ = counts / counts.sum()
        # np.argmax picks the first maximum, i.e. the alphabetically first tag on ties.
        self.fallback_ = str(self.classes_[np.argmax(counts)])
        return self

    def predict_proba(self, X: Iterable[object]) -> np.ndarray:
        check_is_fitted(self, "classes_")
        keywords = KEYWORDS if self.keywords is None else self.keywords
        hits = count_keyword_hits(_as_texts(X), keywords=keywords, classes=[str(c) for c in self.classes_])
        scores = hits + self.smoothing * self.class_prior_
        proba: np.ndarray = scores / scores.sum(axis=1, keepdims=True)
        return proba

    def predict(self, X: Iterable[object]) -> np.ndarray:
        # predict_proba first: it raises NotFittedError before classes_ is touched.
        proba = self.predict_proba(X)
        tags: np.ndarray = self.classes_[np.argmax(proba, axis=1)]
        return tags

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # Input is raw strings, not a numeric 2-D array.
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _as_texts(X: Iterable[object]) -> list[str]:
    if isinstance(X, str):
        raise ValueError("expected a list of texts, got a single string")
    return [str(text) for text in X]
