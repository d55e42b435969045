"""The keyword rules' second opinion and the trust score fitted on the time-ordered validation."""

import math
import random

import pytest

from ml.second_opinion import (
    CONFIRMS,
    CONTRADICTS,
    SILENT,
    RulesOpinion,
    TrustScore,
    _features,
    cross_fitted_scores,
    fit_trust_score,
    rules_opinion,
    rules_opinions,
    scored_validation,
)
from ml.time_validation import ValidationItem


def test_the_rules_confirm_contradict_or_say_nothing():
    text = "object detection in video with a convolutional network"
    assert rules_opinion(text, "computer-vision") == CONFIRMS
    assert rules_opinion(text, "natural-language-processing") == CONTRADICTS
    assert rules_opinion("a quarterly report on our garden club", "computer-vision") == SILENT


def _validation():
    """Contradicted predictions are wrong half the time, confirmed ones almost never, at the same confidences."""
    confidences, opinions, correct, groups = [], [], [], []
    for group in range(3):
        for k in range(60):
            confidence = 0.6 + 0.39 * k / 59
            opinion = (CONFIRMS, SILENT, CONTRADICTS)[k % 3]
            right = k % 2 == 0 if opinion == CONTRADICTS else not (opinion == SILENT and k % 9 == 1) or k > 40
            confidences.append(confidence)
            opinions.append(opinion)
            correct.append(right)
            groups.append(group)
    return confidences, opinions, correct, groups


def test_the_score_learns_that_a_contradiction_makes_a_confident_prediction_less_trustworthy():
    confidences, opinions, correct, _ = _validation()
    score = fit_trust_score(confidences, opinions, correct)
    assert score is not None
    assert score.contradicts_weight < 0 < score.confidence_weight
    assert score.score(0.9, CONTRADICTS) < score.score(0.9, SILENT) < score.score(0.9, CONFIRMS)
    # Needed confidence is the score's inverse: an item at it scores the threshold.
    needed = score.confidence_needed(0.8, CONTRADICTS)
    assert needed is None or math.isclose(score.score(needed, CONTRADICTS), 0.8, abs_tol=1e-6)
    assert score.confidence_needed(0.8, CONFIRMS) < score.confidence_needed(0.8, SILENT)
    assert TrustScore.from_dict(score.to_dict()) == score


def test_nothing_is_fitted_without_an_error_to_learn_from():
    assert fit_trust_score([0.9, 0.8], [CONFIRMS, SILENT], [True, True]) is None


def test_each_slice_is_scored_by_the_regression_of_the_other_slices():
    confidences, opinions, correct, groups = _validation()
    scores = cross_fitted_scores(confidences, opinions, correct, groups)
    others = [k for k, g in enumerate(groups) if g != 0]
    alone = fit_trust_score(
        [confidences[k] for k in others], [opinions[k] for k in others], [correct[k] for k in others]
    )
    assert scores[0] == alone.score(confidences[0], opinions[0])
    full = fit_trust_score(confidences, opinions, correct)
    assert scores[0] != full.score(confidences[0], opinions[0])


def test_the_validation_is_scored_when_it_can_be_and_keeps_the_confidence_when_not():
    texts = ["object detection in video", "a garden club notice"]
    items = [ValidationItem(k % 2, k % 2, "computer-vision", 0.6 + 0.003 * k, k % 7 != 0) for k in range(120)]
    score, audits = scored_validation(items, texts)
    assert score is not None and len(audits) == 120
    assert [a.correct for a in audits] == [i.correct for i in items]
    assert [a.confidence for a in audits] != [i.confidence for i in items]
    one_slice = [ValidationItem(0, 0, i.tag, i.confidence, i.correct) for i in items]
    score, audits = scored_validation(one_slice, texts)
    assert score is None and [a.confidence for a in audits] == [i.confidence for i in items]


def _opinion_one_at_a_time(text: str, tag: str) -> int:
    """The definition as it was written for one text: each class's hits, the tag's against the most."""
    from ml.rules import KEYWORDS, default_class_patterns, keyword_hits

    classes = tuple(sorted(KEYWORDS))
    hits = keyword_hits(text, default_class_patterns(classes))
    if max(hits) == 0:
        return SILENT
    return CONFIRMS if tag in classes and hits[classes.index(tag)] == max(hits) else CONTRADICTS


def test_a_chunks_opinions_are_each_texts_own_on_the_dataset_and_odd_input(dataset_file):
    from ml.dataset import read_labelled_csv
    from ml.rules import KEYWORDS
    from ml.text import prepare_text
    from tests.test_ood_speed_equivalence import TRICKY, random_texts

    items = read_labelled_csv(dataset_file)
    texts = [prepare_text(item.title, item.description) for item in items]
    texts += [text.upper() for text in texts[:100]] + list(TRICKY) + random_texts()
    texts += ["CNNſ for ſegmentation", "\u212aubernetes and mlflow", "hugging face and facial images", ""]
    tags = [*sorted(KEYWORDS), "unknown-tag", ""]
    for tag in tags:
        assert rules_opinions(texts, [tag] * len(texts)) == [_opinion_one_at_a_time(t, tag) for t in texts]
    mixed = [tags[k % len(tags)] for k in range(len(texts))]
    found = rules_opinions(texts, mixed)
    assert found == [_opinion_one_at_a_time(t, tag) for t, tag in zip(texts, mixed)]
    assert {CONFIRMS, CONTRADICTS, SILENT} <= set(found)
    assert rules_opinions([], []) == []
    # One RulesOpinion asked many times (what serving keeps per version) answers each as the rules would alone.
    opinion = RulesOpinion()
    assert [opinion(t, tag) for t, tag in zip(texts, mixed)] == found


def _score_as_a_sum(score: TrustScore, confidence: float, opinion: int) -> float:
    """The score as first written: the intercept plus the sum of weight x feature."""
    weights = (score.confidence_weight, score.confirms_weight, score.contradicts_weight)
    z = score.intercept + sum(w * x for w, x in zip(weights, _features(confidence, opinion)))
    return 1.0 / (1.0 + math.exp(-z))


def test_scores_of_many_are_the_same_floats_as_the_sum_over_the_features():
    rng = random.Random(18)
    fitted = [TrustScore(-0.4, 1.3, 0.7, -1.9), TrustScore(0.0, 0.0, -0.0, 0.0), TrustScore(2.5, 0.2, -0.3, 0.1)]
    fitted += [TrustScore(*(rng.uniform(-5, 5) for _ in range(4))) for _ in range(20)]
    confidences = [0.0, 1.0, 1e-5, 1 - 1e-5, 0.5, *(rng.random() for _ in range(500))]
    opinions = [rng.choice((CONFIRMS, CONTRADICTS, SILENT)) for _ in confidences]
    for score in fitted:
        expected = [_score_as_a_sum(score, c, o) for c, o in zip(confidences, opinions)]
        assert score.scores(confidences, opinions) == expected
        assert [score.score(c, o) for c, o in zip(confidences, opinions)] == expected
        kept = score.scorer()  # made once, asked per request by serving
        assert [kept(c, o) for c, o in zip(confidences, opinions)] == expected


@pytest.mark.parametrize(
    "score",
    [
        TrustScore(-0.4267275352341911, 0.8648958478510385, 2.543660725289827, -1.3842368160558052),  # a fitted one
        TrustScore(0.0, 1.0, 0.0, -3.0),
        TrustScore(1.2, 0.3, -0.5, 0.8),  # odd signs: the rules' weights need not be ordered
        TrustScore(0.0, 0.0, 1.0, -1.0),  # no weight on the confidence: nothing to lean on
        TrustScore(0.5, -0.7, 1.0, -1.0),  # a falling one
    ],
)
def test_below_is_the_score_against_the_threshold_and_asks_the_rules_only_near_it(score):
    rng = random.Random(7)
    full = score.scorer()
    for threshold in (0.0, 0.3, 0.5, 0.9787265153635796, 0.999, 1.0):
        below = score.below(threshold)
        crossings = [c for opinion in (CONFIRMS, SILENT, CONTRADICTS) if (c := _crossing(full, opinion, threshold))]
        confidences = [0.0, 1.0, 1e-4, 1 - 1e-4, 0.5, *(rng.random() for _ in range(2000))]
        for crossing in crossings:  # right at each opinion's crossing, and a few floats either side of it
            near = [crossing]
            for _ in range(4):
                near = [math.nextafter(near[0], -1.0), *near, math.nextafter(near[-1], 2.0)]
            confidences += [c for c in near if 0.0 <= c <= 1.0]
        for confidence in confidences:
            asked = []
            for opinion in (CONFIRMS, SILENT, CONTRADICTS):
                verdict = below(confidence, lambda opinion=opinion, asked=asked: asked.append(opinion) or opinion)
                assert verdict == (full(confidence, opinion) < threshold), (threshold, confidence, opinion)
            far = all(abs(confidence - edge) > 1e-6 for edge in (*crossings, 0.0, 1.0))
            agreed = len({full(confidence, opinion) < threshold for opinion in (CONFIRMS, SILENT, CONTRADICTS)}) == 1
            if score.confidence_weight <= 0:
                assert len(asked) == 3
            elif far and agreed:
                # Away from every crossing (and the ends) the three opinions give one verdict: the rules are not read.
                assert asked == [], (threshold, confidence)


def _crossing(score, opinion: int, threshold: float) -> float | None:
    """Some confidence where ``score`` with ``opinion`` goes from below the threshold to not (by bisection)."""
    low, high = 0.0, 1.0
    if (score(low, opinion) < threshold) == (score(high, opinion) < threshold):
        return None
    while (middle := (low + high) / 2) not in (low, high):  # down to two neighbouring floats
        if (score(middle, opinion) < threshold) == (score(low, opinion) < threshold):
            low = middle
        else:
            high = middle
    return high
