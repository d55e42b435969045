"""The per-item checks calibrated for content newer than their training texts (ml.ood ``oldest_first``, issue 14).

The training texts here drift: every ten texts bring a new topic word and retire an old one, as
new names and fields come and go in real ML content.  Random folds keep each text's
contemporaries on the other side of the split, so its out-of-fold scores look like content the
checks already know; the stream is newer than every training text.
"""

import random

import numpy as np

from ml.offtopic import TUNING, read_offtopic_samples
from ml.ood import fit_ood_checks
from ml.semantic import out_of_fold_distances
from ml.text import prepare_text

_SYLLABLES = ["ba", "ke", "lo", "mi", "nu", "ra", "te", "vo"]
_COMMON = ["model", "data", "training", "network", "learning", "dataset"]


def _topic_word(k: int) -> str:
    """A made-up content word for topic number k ("bababa", "kebaba", ...)."""
    return "".join(_SYLLABLES[(k // 8**p) % 8] for p in range(3))


def drifting_texts(count: int, start: int = 0) -> list[str]:
    """Text i is about topic words i // 10 and i // 10 + 1, with common ML words around them."""
    rng = random.Random(start)
    texts = []
    for i in range(start, start + count):
        words = [_topic_word(i // 10), _topic_word(i // 10 + 1)] * 2 + rng.sample(_COMMON, 3)
        texts.append(" ".join(rng.sample(words, len(words))))
    return texts


def drifting_vectors(count: int, start: int = 0) -> np.ndarray:
    """Unit vectors whose direction turns a little with every text: meaning drifting with time."""
    rng = np.random.default_rng(start)
    angles = 0.01 * np.arange(start, start + count)
    vectors = np.zeros((count, 16))
    vectors[:, 0], vectors[:, 1] = np.cos(angles), np.sin(angles)
    vectors[:, 2:] = 0.05 * rng.normal(size=(count, 14))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


OLD = drifting_texts(300)
NEXT = drifting_texts(10, start=300)  # the next topic: one word known from the newest texts, one new


def test_time_ordered_folds_let_the_next_real_content_through():
    random_folds = fit_ood_checks(OLD)
    time_folds = fit_ood_checks(OLD, oldest_first=range(len(OLD)))
    assert all(result.flagged for result in random_folds.check(NEXT))  # the false alarms this fixes
    assert not any(result.flagged for result in time_folds.check(NEXT))
    assert time_folds.thresholds["surprise"] > random_folds.thresholds["surprise"]


def test_time_ordered_checks_still_flag_text_unlike_any_of_it_with_their_reasons():
    checks = fit_ood_checks(OLD, oldest_first=range(len(OLD)))
    result = checks.check(["bakery opening hours and fresh bread every morning"])[0]
    assert result.flagged
    assert "6 of 6 content words never seen in training" in result.checks["oov"].reason
    assert "words unusual for training content" in result.checks["surprise"].reason


def test_the_time_order_comes_from_oldest_first_not_from_the_list_order():
    positions = list(range(len(OLD)))
    random.Random(1).shuffle(positions)
    shuffled = [OLD[k] for k in positions]
    oldest_first = sorted(range(len(OLD)), key=lambda k: positions[k])
    in_order = fit_ood_checks(OLD, oldest_first=range(len(OLD)))
    assert fit_ood_checks(shuffled, oldest_first=oldest_first).thresholds == in_order.thresholds
    assert fit_ood_checks(shuffled).thresholds != in_order.thresholds


def test_texts_without_words_are_left_out_of_the_order():
    with_empty = ["", *OLD, "!!!"]
    oldest_first = [0, *range(1, len(OLD) + 1), len(OLD) + 1]
    in_order = fit_ood_checks(OLD, oldest_first=range(len(OLD)))
    assert fit_ood_checks(with_empty, oldest_first=oldest_first).thresholds == in_order.thresholds


def test_the_meaning_part_is_standardised_on_time_blocks_too():
    offtopic = [prepare_text(s.title, s.description) for s in read_offtopic_samples() if s.slice == TUNING]
    vectors = drifting_vectors(len(OLD))
    random_folds = fit_ood_checks(OLD, offtopic_texts=offtopic, train_vectors=vectors, vectors_precision="fp32")
    time_folds = fit_ood_checks(
        OLD, offtopic_texts=offtopic, train_vectors=vectors, vectors_precision="fp32", oldest_first=range(len(OLD))
    )
    assert random_folds.topic is not None and time_folds.topic is not None
    assert random_folds.topic.semantic_scale is not None and time_folds.topic.semantic_scale is not None
    # A block's nearest training texts are older or newer than it, never its contemporaries: farther.
    assert time_folds.topic.semantic_scale.center > random_folds.topic.semantic_scale.center
    next_vectors = drifting_vectors(len(NEXT), start=len(OLD))
    assert sum(r.checks["topic"].flagged for r in random_folds.check(NEXT, next_vectors)) > sum(
        r.checks["topic"].flagged for r in time_folds.check(NEXT, next_vectors)
    )


def test_out_of_fold_distances_use_the_splits_given():
    vectors = drifting_vectors(40)
    older, newest = np.arange(30), np.arange(30, 40)
    distances = out_of_fold_distances(vectors, splits=[(older, newest)])
    assert np.isnan(distances[:30]).all()  # scored by no split
    assert (distances[30:] > out_of_fold_distances(vectors)[30:]).all()  # the older texts only: farther
