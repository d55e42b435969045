"""Emerging topics (ml.emerging): candidates grouped by meaning when vectors are given, by words otherwise."""

import numpy as np
import pytest

from ml.emerging import find_clusters, novel_by_meaning
from ml.text import prepare_text
from tests.ml.test_ml_ood import rows_by_date

QUANTUM = [
    "Variational quantum eigensolver on noisy qubits: quantum circuits estimate ground state energy.",
    "Quantum annealing for scheduling: qubits and annealers solve combinatorial problems.",
    "Error mitigation for quantum circuits: noisy qubits, extrapolation to zero noise.",
    "Quantum kernels for classification: circuits map data to qubits as a feature map.",
    "Simulating quantum circuits with tensor networks: entanglement and gates simulated fast.",
    "Benchmarking qubits on cloud quantum hardware: quantum volume and gate fidelity.",
]


@pytest.fixture(scope="module")
def dataset_texts() -> list[str]:
    return [prepare_text(row["title"], row["description"]) for row in rows_by_date()]


def test_by_words_a_group_sharing_new_words_is_the_top_cluster(dataset_texts):
    training, known = dataset_texts[:300], dataset_texts[300:306]
    clusters = find_clusters(QUANTUM + known, training, min_size=4)
    assert clusters, "the quantum items share words no training text has"
    assert set(clusters[0].members) <= set(range(len(QUANTUM)))
    assert {"quantum", "qubits"} & set(clusters[0].top_terms[:3])


def test_by_meaning_the_new_direction_is_found_and_the_known_one_cancels():
    rng = np.random.default_rng(0)
    known, new = np.eye(64)[0], np.eye(64)[1]

    def around(direction, count):
        vectors = direction + 0.1 * rng.normal(size=(count, 64))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    training_mean = around(known, 200).mean(axis=0)
    vectors = np.vstack([around(known, 6), around(new, 6)])
    texts = [f"item number {i} about something" for i in range(12)]
    clusters = find_clusters(texts, texts[:2], min_size=5, candidate_vectors=vectors, training_mean=training_mean)
    assert clusters and set(clusters[0].members) == set(range(6, 12))


def test_a_candidate_exactly_at_the_training_mean_joins_no_topic():
    mean = np.ones(4) / 2
    vectors = np.vstack([mean] * 5 + [np.eye(4)[1]] * 5)
    texts = [f"text {i} words here" for i in range(10)]
    clusters = find_clusters(texts, ["other words"], min_size=5, candidate_vectors=vectors, training_mean=mean)
    assert [sorted(c.members) for c in clusters] == [[5, 6, 7, 8, 9]]


@pytest.mark.minilm
def test_by_meaning_with_minilm_the_new_field_is_the_top_cluster(dataset_texts):
    from ml import minilm

    training, known = dataset_texts[:120], dataset_texts[300:312]  # the mean of 120 vectors is steady enough
    candidates = QUANTUM + known
    clusters = find_clusters(
        candidates,
        training,
        min_size=4,
        candidate_vectors=minilm.encode(candidates),
        training_mean=minilm.encode(training).mean(axis=0),
    )
    assert clusters
    top = set(clusters[0].members)
    assert len(top & set(range(len(QUANTUM)))) >= 5 and len(top - set(range(len(QUANTUM)))) <= 1
    assert "quantum" in clusters[0].top_terms[:3]


def test_novel_by_meaning_picks_what_is_farther_than_most_training_texts():
    rng = np.random.default_rng(1)
    training = np.eye(32)[0] + 0.2 * rng.normal(size=(100, 32))
    training /= np.linalg.norm(training, axis=1, keepdims=True)
    near, far = training[:3] + 0.01, np.eye(32)[5:8]
    novel = novel_by_meaning(training, np.vstack([near / np.linalg.norm(near, axis=1, keepdims=True), far]))
    assert novel.tolist() == [False, False, False, True, True, True]
    assert not novel_by_meaning(training[:1], far).any()  # one training text: no spread to judge by
