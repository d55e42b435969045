import pytest

from ml.items import PredictionResult
from ml.selection import cross_validate
from ml.suspects import Suspect, class_thresholds, find_suspects

A, B, C = "a", "b", "c"


def result(**probabilities) -> PredictionResult:
    tag = max(probabilities, key=lambda name: probabilities[name])
    return PredictionResult(tag=tag, probabilities=probabilities, confidence=probabilities[tag])


def test_hand_made_thresholds_and_ranking():
    labels = [A, A, A, B, B]
    oof = [
        result(a=0.9, b=0.1),
        result(a=0.8, b=0.2),
        result(a=0.1, b=0.9),  # labelled a, looks like b: margin 0.8
        result(a=0.3, b=0.7),
        result(a=0.55, b=0.45),
    ]  # labelled b, a=0.55 < a's threshold 0.6: not suspect
    assert class_thresholds(labels, oof) == pytest.approx({A: 0.6, B: 0.575})
    assert find_suspects(labels=labels, oof=oof, limit=10) == [Suspect(2, A, B, 0.8)]


def test_rival_must_beat_the_given_label_too():
    # c reaches its (low) threshold but the given label is still more probable.
    labels = [A, C, C]
    oof = [result(a=0.5, b=0.1, c=0.4), result(a=0.7, c=0.3), result(a=0.8, c=0.2)]
    assert [s.index for s in find_suspects(labels=labels, oof=oof, limit=5)] == [2, 1]


def test_highest_suspicion_first_and_limit():
    labels = [A] * 4 + [B] * 4
    oof = (
        [result(a=0.95, b=0.05)] * 3
        + [result(a=0.2, b=0.8)]
        + [result(a=0.05, b=0.95)] * 2
        + [result(a=0.9, b=0.1), result(a=0.7, b=0.3)]
    )
    found = find_suspects(labels=labels, oof=oof, limit=2)
    assert [(s.index, s.suggested) for s in found] == [(6, A), (3, B)]
    assert found[0].suspicion == 0.8 and found[1].suspicion == 0.6
    assert find_suspects(labels=labels, oof=oof, limit=0) == []


def test_misaligned_inputs_are_rejected():
    with pytest.raises(ValueError, match="2 labels but 1 predictions"):
        find_suspects(labels=[A, B], oof=[result(a=1.0)], limit=1)


def test_flags_planted_label_flips_in_a_separable_toy_set():
    topics = {
        A: "image pixels camera photo frame",
        B: "sentence grammar words text token",
        C: "deploy docker kubernetes server monitoring",
    }
    texts, labels = [], []
    for i in range(20):
        for tag, words in topics.items():
            texts.append(f"{words} number{i}")
            labels.append(tag)
    flipped = {5: B, 16: C, 34: A}  # index -> wrong label planted (true: c, b, b)
    noisy = [flipped.get(i, label) for i, label in enumerate(labels)]
    cv = cross_validate(texts=texts, labels=noisy, algorithm="tfidf-linear", random_state=0)
    found = find_suspects(labels=noisy, oof=cv.oof, limit=len(flipped))
    assert {s.index for s in found} == set(flipped)
    assert all(s.suggested == labels[s.index] and s.given == noisy[s.index] for s in found)
