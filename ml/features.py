"""Feature assembly tuned for single-item prediction latency and quick loading.

``FeatureUnion.transform`` dispatches its parts through joblib and sklearn's
output wrappers even with ``n_jobs=None``.  For one text that machinery
cost ~0.7 ms, half of a whole tfidf-linear prediction, so the union below
runs its parts in a plain loop.  Fitting is inherited unchanged.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion


class SequentialFeatureUnion(FeatureUnion):
    """A FeatureUnion whose ``transform`` concatenates its parts in a plain loop.

    Same output as FeatureUnion for fitted transformers and weights; the
    rarely used "passthrough" parts and parallel jobs use the inherited path.
    """

    def transform(self, X: Any, **params: Any) -> Any:
        if params or self.n_jobs not in (None, 1) or any(part == "passthrough" for _, part in self.transformer_list):
            return super().transform(X, **params)
        weights = self.transformer_weights or {}
        blocks = []
        for name, part in self.transformer_list:
            if part == "drop":
                continue
            block = part.transform(X)
            blocks.append(block * weights[name] if name in weights else block)
        if not blocks:
            return np.zeros((len(X), 0))
        if any(sparse.issparse(block) for block in blocks):
            # format="csr" takes scipy's fast path for CSR blocks (no COO round trip).
            return sparse.hstack(blocks, format="csr")
        return np.hstack(blocks)


class CompactTfidfVectorizer(TfidfVectorizer):
    """A TfidfVectorizer whose saved state holds its vocabulary as one array.

    skops saves a dict entry by entry: the ~80,000 terms of the tfidf-linear
    vocabularies made a model take ~0.7 s to load, nearly all of it spent on
    those entries.  An array of the terms, in column order, loads in a few
    milliseconds and rebuilds the same dict.  Fitting and transforming are
    TfidfVectorizer's own.
    """

    def __getstate__(self) -> dict[str, Any]:
        # A copy: on Python 3.11 the inherited state may be the instance's own __dict__.
        state = dict(super().__getstate__())
        terms = _terms_in_column_order(state.get("vocabulary_"))
        if terms is not None:
            del state["vocabulary_"]
            state["vocabulary_terms_"] = np.array(terms, dtype=str)
        return state

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        state = dict(state)
        terms = state.pop("vocabulary_terms_", None)
        if terms is not None:
            state["vocabulary_"] = {term: column for column, term in enumerate(terms.tolist())}
        super().__setstate__(state)


def _terms_in_column_order(vocabulary: dict[str, int] | None) -> list[str] | None:
    """The terms sorted by column, or None when an array could not rebuild the dict exactly."""
    if not vocabulary:
        return None
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    # Columns must be 0..n-1, and numpy drops a string's trailing NULs.
    if any(vocabulary[term] != column for column, term in enumerate(terms)) or any(
        term.endswith("\0") for term in terms
    ):
        return None
    return terms
