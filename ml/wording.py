"""A linear score of how a text is worded: like the ML training texts (low) or like off-topic text (high).

Features are the *set* of word and symbol tokens of a text, stopwords included ("your", "shall",
"$", "!"), L2-normalised (each of ``n`` known tokens weighs ``1/sqrt(n)``), fed to a balanced
logistic regression.  Function words and symbols are shared by many kinds of off-topic text
(ads talk to "you", complaints say "my", legal text "shall"), which is what lets the score carry
over to kinds it never saw; ``make bench-drift`` checks that leave-one-kind-out.

The fitted model is plain data (a weight per token and an intercept), scored without
scikit-learn and stored as JSON with the other per-item checks.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

# Letters runs and a few symbols typical of ads, prices and chat (public: ml.ood_batch finds them its own way).
LETTERS, SYMBOLS = "[a-z]+", "[!?$%#@€£]"
TOKEN = re.compile(f"{LETTERS}|{SYMBOLS}")
MIN_DOCUMENTS = 2  # a token seen in one text only is noise (and memorises that text)
REGULARISATION = 1.0  # scikit-learn's C


def wording_tokens(text: str) -> set[str]:
    return set(TOKEN.findall(text.lower()))


@dataclass(frozen=True)
class WordingModel:
    weights: dict[str, float]
    intercept: float

    def score(self, text: str) -> float:
        """Decision value: above 0 leans off-topic."""
        known = [self.weights[t] for t in wording_tokens(text) if t in self.weights]
        if not known:
            return self.intercept
        return self.intercept + sum(known) / math.sqrt(len(known))

    def top_terms(self, text: str, count: int = 3) -> list[str]:
        """The tokens of ``text`` that push most toward off-topic (positive weights only)."""
        pushing = sorted(
            (t for t in wording_tokens(text) if self.weights.get(t, 0.0) > 0), key=lambda t: -self.weights[t]
        )
        return pushing[:count]

    def to_dict(self) -> dict[str, Any]:
        return {"intercept": self.intercept, "weights": dict(sorted(self.weights.items()))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "WordingModel":
        return cls(weights={str(k): float(v) for k, v in data["weights"].items()}, intercept=float(data["intercept"]))


def fit_wording(in_texts: list[str], off_texts: list[str]) -> WordingModel:
    """Logistic regression of off-topic (1) against in-distribution (0), classes weighted equally."""
    if not in_texts or not off_texts:
        raise ValueError("need texts of both sides to fit the wording score")
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    token_sets = [wording_tokens(t) for t in in_texts + off_texts]
    frequency = Counter(token for tokens in token_sets for token in tokens)
    vocabulary = {t: i for i, t in enumerate(sorted(t for t, n in frequency.items() if n >= MIN_DOCUMENTS))}
    rows, columns, values = [], [], []
    for row, tokens in enumerate(token_sets):
        known = sorted(vocabulary[t] for t in tokens if t in vocabulary)
        for column in known:
            rows.append(row)
            columns.append(column)
            values.append(1.0 / math.sqrt(len(known)))
    matrix = csr_matrix((values, (rows, columns)), shape=(len(token_sets), len(vocabulary)))
    labels = np.r_[np.zeros(len(in_texts)), np.ones(len(off_texts))]
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000).fit(matrix, labels)
    weights = {t: round(float(model.coef_[0][i]), 6) for t, i in vocabulary.items()}
    return WordingModel(weights=weights, intercept=round(float(model.intercept_[0]), 6))
