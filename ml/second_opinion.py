"""A second opinion on a prediction: the keyword rules, and the trust score they feed.

The model's confidence was calibrated on items like its training data; on newer content
its confident errors come in clusters the confidence does not show (``make bench-trust``,
"## Trust").  A cheap, different model sees some of them: the keyword rules of
:mod:`ml.rules`.  Their *opinion* on a prediction is one of three:

* ``CONFIRMS`` (+1): the text names keywords and the model's tag has the most hits;
* ``CONTRADICTS`` (-1): the text names keywords and another tag has more hits;
* ``SILENT`` (0): no keyword at all (the rules' own answer would be a guess).

The *trust score* is the chance that the prediction is right on newer content, given its
confidence and that opinion: a logistic regression on (logit of the confidence, confirms,
contradicts), fitted on the time-ordered validation (:mod:`ml.time_validation`), i.e. on
items newer than the models that predicted them.  It is plain arithmetic at serving time
(three coefficients and a regular expression per tag).  The trust policy (:mod:`ml.trust`)
judges and moves thresholds on this score instead of the bare confidence.

The validation's own items are scored *cross-fitted* (each slice by a regression fitted
on the other slices), so the threshold they prove is not flattered by a regression that
has seen them.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ml.trust import Audit

if TYPE_CHECKING:
    from ml.time_validation import ValidationItem

CONFIRMS, SILENT, CONTRADICTS = 1, 0, -1
# Confidences are clipped before the logit: a calibrated 1.0 would be an infinite feature.
_EPS = 1e-4


def rules_opinion(text: str, tag: str) -> int:
    """What the keyword rules say of ``tag`` for a prepared ``text``: CONFIRMS, SILENT or CONTRADICTS."""
    return rules_opinions([text], [tag])[0]


def rules_opinions(texts: Sequence[str], tags: Sequence[str]) -> list[int]:
    """:func:`rules_opinion` of each (text, tag); the classes and their patterns are looked up once for all.

    A re-prediction chunk asks 2,000 opinions: asked one at a time, the look-ups cost as much as the regexes.
    """
    opinion = RulesOpinion()
    return [opinion(text, tag) for text, tag in zip(texts, tags)]


class RulesOpinion:
    """:func:`rules_opinion` with the classes, their patterns and positions looked up once, when built.

    Online serving keeps one per serving state: each request then pays for the regexes only.
    """

    def __init__(self) -> None:
        # ml.keywords, not ml.rules (a scikit-learn estimator module): a web process never imports scikit-learn.
        from ml.keywords import KEYWORDS, default_class_patterns, keyword_hits  # noqa: PLC0415

        classes = tuple(sorted(KEYWORDS))
        self._patterns = default_class_patterns(classes)
        self._position = {tag: k for k, tag in enumerate(classes)}
        self._keyword_hits = keyword_hits

    def __call__(self, text: str, tag: str) -> int:
        hits = self._keyword_hits(text, self._patterns)
        top = max(hits)
        if top == 0:
            return SILENT
        k = self._position.get(tag)
        return CONFIRMS if k is not None and hits[k] == top else CONTRADICTS


def _logit(confidence: float) -> float:
    p = min(max(confidence, _EPS), 1 - _EPS)
    return math.log(p / (1 - p))


def _features(confidence: float, opinion: int) -> list[float]:
    return [_logit(confidence), float(opinion == CONFIRMS), float(opinion == CONTRADICTS)]


@dataclass(frozen=True)
class TrustScore:
    """P(right | confidence, rules' opinion) = sigmoid(intercept + w . (logit conf, confirms, contradicts))."""

    intercept: float
    confidence_weight: float
    confirms_weight: float
    contradicts_weight: float

    def score(self, confidence: float, opinion: int) -> float:
        return self.scores([confidence], [opinion])[0]

    def scores(self, confidences: Sequence[float], opinions: Sequence[int]) -> list[float]:
        """:meth:`score` of each (confidence, opinion), without a feature list per item (a chunk scores 2,000)."""
        score = self.scorer()
        return [score(confidence, opinion) for confidence, opinion in zip(confidences, opinions)]

    def scorer(self) -> Callable[[float, int], float]:
        """:meth:`score` as a function with the per-opinion terms worked out once (serving keeps one per version)."""
        # Each opinion's two flag terms, w * 1.0 or w * 0.0 as the features make them, added in the features'
        # order (logit, confirms, contradicts) as the sum over them did: the same float for every score.
        terms = {
            opinion: (self.confirms_weight * flags[0], self.contradicts_weight * flags[1])
            for opinion, flags in ((CONFIRMS, (1.0, 0.0)), (CONTRADICTS, (0.0, 1.0)), (SILENT, (0.0, 0.0)))
        }
        intercept, weight = self.intercept, self.confidence_weight

        def score(confidence: float, opinion: int) -> float:
            confirms, contradicts = terms[opinion]
            z = intercept + (weight * _logit(confidence) + confirms + contradicts)
            return 1.0 / (1.0 + math.exp(-z))

        return score

    def below(self, threshold: float) -> "Callable[[float, Callable[[], int]], bool]":
        """Whether a prediction's score is below ``threshold``, asking its opinion only where the opinion matters.

        The returned function takes the confidence and a function that gives the opinion (the rules' regexes, the
        costly part of a score). The score rises with the confidence, so each opinion has a confidence from which
        the score reaches the threshold, found once here on the score itself. Well below the lowest of the three
        (by ``_DECIDED_MARGIN``), every opinion's score is below the threshold; well above the highest, none is:
        there the opinion is not asked. Between them, the score is computed as :meth:`scorer` computes it. Every
        answer is ``score(confidence, opinion) < threshold``, exactly.
        """
        score = self.scorer()
        if not self.confidence_weight > 0:  # no rise with the confidence to lean on
            return lambda confidence, opinion: score(confidence, opinion()) < threshold
        cutoffs = [_lowest_reaching(score, opinion, threshold) for opinion in (CONFIRMS, SILENT, CONTRADICTS)]
        low, high = min(cutoffs) - _DECIDED_MARGIN, max(cutoffs) + _DECIDED_MARGIN

        def below(confidence: float, opinion: Callable[[], int]) -> bool:
            if confidence < low:
                return True
            if confidence >= high:
                return False
            return score(confidence, opinion()) < threshold

        return below

    def confidence_needed(self, threshold: float, opinion: int) -> float | None:
        """The lowest confidence whose score reaches ``threshold`` with this opinion (None: none does)."""
        if threshold >= 1 or self.confidence_weight <= 0:
            return None
        if threshold <= 0:
            return 0.0
        shift = self.confirms_weight * (opinion == CONFIRMS) + self.contradicts_weight * (opinion == CONTRADICTS)
        z = (math.log(threshold / (1 - threshold)) - self.intercept - shift) / self.confidence_weight
        needed = 1.0 / (1.0 + math.exp(-z))
        return needed if needed <= 1 - _EPS else None

    def to_dict(self) -> dict[str, float]:
        return {
            "intercept": self.intercept,
            "confidence": self.confidence_weight,
            "confirms": self.confirms_weight,
            "contradicts": self.contradicts_weight,
        }

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> "TrustScore":
        return cls(
            float(data["intercept"]), float(data["confidence"]), float(data["confirms"]), float(data["contradicts"])
        )


# A score computed through log and exp may be off by an ulp or two, so the confidences where one opinion's score may
# cross the threshold are taken as a band this wide around the crossing (the score moves by ~1e-11 across it), and
# every item in the band is scored.
_DECIDED_MARGIN = 1e-9


def _lowest_reaching(score: Callable[[float, int], float], opinion: int, threshold: float) -> float:
    """The lowest confidence in [0, 1] at which ``score`` with ``opinion`` (rising with the confidence) reaches
    ``threshold``, to ~1e-15; inf: none does (a confidence past 1 would be needed)."""
    low, high = 0.0, 1.0
    if score(high, opinion) < threshold:
        return math.inf
    if score(low, opinion) >= threshold:
        return low
    while high - low > 1e-15:
        middle = (low + high) / 2
        if score(middle, opinion) >= threshold:
            high = middle
        else:
            low = middle
    return high


def fit_trust_score(
    confidences: Sequence[float], opinions: Sequence[int], correct: Sequence[bool]
) -> TrustScore | None:
    """The regression on validation items; None when they hold only right (or only wrong) answers."""
    if len(set(correct)) < 2:
        return None
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 -- scikit-learn only where one is fitted

    features = [_features(c, o) for c, o in zip(confidences, opinions)]
    model = LogisticRegression().fit(features, [bool(c) for c in correct])
    weights = [float(w) for w in model.coef_[0]]
    return TrustScore(float(model.intercept_[0]), *weights)


def cross_fitted_scores(
    confidences: Sequence[float], opinions: Sequence[int], correct: Sequence[bool], groups: Sequence[int]
) -> list[float] | None:
    """Each item's score from the regression fitted on the other groups (slices); None if a group cannot be scored."""
    scores = [0.0] * len(confidences)
    for group in set(groups):
        rest = [k for k, g in enumerate(groups) if g != group]
        fitted = fit_trust_score(
            [confidences[k] for k in rest], [opinions[k] for k in rest], [correct[k] for k in rest]
        )
        if fitted is None:
            return None
        for k, g in enumerate(groups):
            if g == group:
                scores[k] = fitted.score(confidences[k], opinions[k])
    return scores


def scored_validation(items: Sequence["ValidationItem"], texts: Sequence[str]) -> tuple[TrustScore | None, list[Audit]]:
    """The trust score fitted on the time-ordered validation, and its items as audits on that score (cross-fitted).

    ``texts``: the time-ordered texts the items index.  With fewer than two slices, or a
    slice whose other slices hold no error, there is nothing to cross-fit: (None, the bare
    confidences), i.e. the policy judges the model's confidence as before.
    """
    bare = [item.audit for item in items]
    opinions = [rules_opinion(texts[item.index], item.tag) for item in items]
    confidences = [item.confidence for item in items]
    correct = [item.correct for item in items]
    slices = [item.slice for item in items]
    fitted = fit_trust_score(confidences, opinions, correct) if len(set(slices)) >= 2 else None
    crossed = cross_fitted_scores(confidences, opinions, correct, slices) if fitted is not None else None
    if fitted is None or crossed is None:
        return None, bare
    return fitted, [Audit(score, right) for score, right in zip(crossed, correct)]
