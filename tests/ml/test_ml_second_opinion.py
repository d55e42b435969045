"""The keyword rules' second opinion and the trust score fitted on the time-ordered validation."""

import math

from ml.second_opinion import (
    CONFIRMS,
    CONTRADICTS,
    SILENT,
    TrustScore,
    cross_fitted_scores,
    fit_trust_score,
    rules_opinion,
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
