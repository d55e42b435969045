"""The topic check's meaning part: distance to the nearest training texts in MiniLM space (ml.semantic)."""

import json

import numpy as np
import pytest

from ml.offtopic import TUNING, by_kind, read_offtopic_samples
from ml.ood import OODChecks, fit_ood_checks
from ml.semantic import NeighbourDistance
from ml.text import prepare_text
from tests.ml.test_ml_ood import rows_by_date


def unit(rows: list[list[float]]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_distance_is_small_near_the_reference_and_large_far_from_it():
    reference = NeighbourDistance.fit(unit([[1, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0]]), neighbours=2)
    near, far = reference.distances(unit([[1, 0.05, 0], [0, 0, 1]]))
    assert near < 0.02
    assert far > 0.99


def test_the_nearest_neighbours_count_not_the_far_ones():
    reference = NeighbourDistance.fit(unit([[1, 0], [1, 0.01], [0, 1], [0, 1]]), neighbours=2)
    assert reference.distances(unit([[1, 0]]))[0] < 0.01


def test_round_trips_through_json_and_refuses_a_truncated_reference():
    reference = NeighbourDistance.fit(unit([[1, 2, 3], [3, 2, 1]]), neighbours=1)
    data = json.loads(json.dumps(reference.to_dict()))
    restored = NeighbourDistance.from_dict(data)
    query = unit([[1, 1, 1]])
    assert restored.distances(query) == pytest.approx(reference.distances(query))
    with pytest.raises(ValueError, match="expected 2 x 3 values, found 3"):
        NeighbourDistance.from_dict(data | {"int8": data["int8"][:4]})


def test_int8_reference_keeps_similarities_within_a_hundredth():
    rng = np.random.default_rng(0)
    vectors = unit(rng.normal(size=(50, 384)).tolist())
    exact = 1 - np.sort(vectors[:5] @ vectors.T, axis=1)[:, -3:].mean(axis=1)
    assert NeighbourDistance.fit(vectors, neighbours=3).distances(vectors[:5]) == pytest.approx(exact, abs=0.01)


@pytest.fixture(scope="module")
def encoded():
    """400 older dataset texts, 60 newer ones and the legal and job-ad samples, with their MiniLM vectors."""
    from ml import minilm

    texts = [prepare_text(row["title"], row["description"]) for row in rows_by_date()]
    kinds = by_kind(read_offtopic_samples())
    held_out = [prepare_text(s.title, s.description) for s in kinds["legal-boilerplate"]]
    others = [
        prepare_text(s.title, s.description)
        for kind, group in kinds.items()
        if kind != "legal-boilerplate"
        for s in group
        if s.slice == TUNING
    ]
    train, newer = texts[:400], texts[-60:]
    vectors = minilm.encode(train + newer + held_out)
    return {
        "train": train,
        "newer": newer,
        "held_out": held_out,
        "others": others,
        "train_vectors": vectors[:400],
        "newer_vectors": vectors[400:460],
        "held_out_vectors": vectors[460:],
    }


@pytest.mark.minilm
def test_meaning_catches_a_kind_no_example_was_given_of(encoded):
    # Legal boilerplate shares neither the topic words nor the ads' wording; its meaning is still far from ML.
    plain = fit_ood_checks(encoded["train"], offtopic_texts=encoded["others"])
    with_meaning = fit_ood_checks(
        encoded["train"], offtopic_texts=encoded["others"], train_vectors=encoded["train_vectors"]
    )
    texts, vectors = encoded["held_out"], encoded["held_out_vectors"]
    caught_plain = sum(r.checks["topic"].flagged for r in plain.check(texts))
    caught = sum(r.checks["topic"].flagged for r in with_meaning.check(texts, vectors))
    assert caught > caught_plain
    assert caught >= len(texts) - 1
    newer_flagged = sum(r.flagged for r in with_meaning.check(encoded["newer"], encoded["newer_vectors"]))
    assert newer_flagged <= 2  # real, newer ML items mostly pass


@pytest.mark.minilm
def test_the_reason_names_the_meaning_evidence_and_survives_storage(encoded):
    checks = fit_ood_checks(
        encoded["train"],
        offtopic_texts=encoded["others"],
        train_vectors=encoded["train_vectors"],
        vectors_precision="fp32",  # the fixture's vectors: ml.minilm's
    )
    texts, vectors = encoded["held_out"][:3], encoded["held_out_vectors"][:3]
    topic = checks.check(texts, vectors)[0].checks["topic"]
    assert "sd farther from the nearest training items than typical" in topic.reason
    restored = OODChecks.from_dict(json.loads(json.dumps(checks.to_dict())))
    assert [r.to_dict() for r in restored.check(texts, vectors)] == [r.to_dict() for r in checks.check(texts, vectors)]
    # Without vectors the checks encode the texts themselves, through the shared encoder (fp32: ONNX Runtime's
    # or numpy's, equal to ~2e-7, so the verdicts and reasons are the same).
    said = [(r.flagged, r.reasons) for r in checks.check(texts, vectors)]
    assert [(r.flagged, r.reasons) for r in restored.check(texts)] == said


@pytest.mark.minilm
def test_a_text_that_could_not_be_encoded_says_so_and_counts_as_typical(encoded):
    checks = fit_ood_checks(encoded["train"], offtopic_texts=encoded["others"], train_vectors=encoded["train_vectors"])
    assert checks.topic is not None
    text = encoded["held_out"][0]
    scores = checks.scores(text)
    result = checks.topic.evaluate(text, scores.surprise, None, tokens=scores.tokens)
    assert "meaning not measured (no sentence encoder)" in result.reason


def test_checks_fitted_without_vectors_have_no_meaning_part():
    texts = [prepare_text(row["title"], row["description"]) for row in rows_by_date()][:300]
    others = [prepare_text(s.title, s.description) for s in read_offtopic_samples() if s.slice == TUNING]
    checks = fit_ood_checks(texts, offtopic_texts=others)
    assert checks.topic is not None and checks.topic.semantic is None
    assert "semantic" not in checks.to_dict()["topic"]
    assert "meaning" not in checks.check(["Refund my money now, your support is awful!"])[0].checks["topic"].reason


@pytest.mark.minilm
def test_checks_encode_a_text_the_way_their_reference_was_made(encoded):
    """A reference of int8 vectors measures int8 vectors, whatever the backend setting is later."""
    from ml.ood import default_encode

    train_int8 = default_encode(encoded["train"], precision="int8")
    checks = fit_ood_checks(
        encoded["train"], offtopic_texts=encoded["others"], train_vectors=train_int8, vectors_precision="int8"
    )
    restored = OODChecks.from_dict(json.loads(json.dumps(checks.to_dict())))
    assert restored.topic is not None and restored.topic.semantic is not None
    assert restored.topic.semantic.precision == "int8"
    texts = encoded["held_out"][:3]
    given = [r.to_dict() for r in checks.check(texts, default_encode(texts, precision="int8"))]
    assert [r.to_dict() for r in restored.check(texts)] == given
    # fp32 vectors of the same texts are close but not the same: measuring them would change the scores.
    assert [r.to_dict() for r in checks.check(texts, default_encode(texts, precision="fp32"))] != given
