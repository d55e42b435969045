"""``OODChecks.flagged_reasons`` (the batch path of a re-prediction chunk) says what ``check`` says.

It skips writing the reasons of checks that pass, so it must reach the same verdict by
the same comparisons: here every text of the dataset, every off-topic sample (the
never-tuned kinds included), the tricky and the random inputs of the speed-equivalence
test, against checks fitted with the topic check as training fits them: without sentence
vectors, and with its meaning part (random vectors stand in for the encoder's: the
comparison is what is tested, not what the vectors mean).
"""

import numpy as np
import pytest

from ml.offtopic import TUNING, read_offtopic_samples
from ml.ood import fit_ood_checks
from ml.text import prepare_text
from tests.test_ood_speed_equivalence import TRICKY, dataset_texts, random_texts


@pytest.fixture(scope="module", params=["words only", "with meaning"])
def fitted(request):
    samples = read_offtopic_samples()
    offtopic = [prepare_text(s.title, s.description) for s in samples]
    tuning = [text for text, s in zip(offtopic, samples) if s.slice == TUNING]
    dataset = dataset_texts()
    texts = [*dataset, *offtopic, *TRICKY, *random_texts()]
    random = np.random.default_rng(7)
    vectors = random.normal(size=(len(texts), 16)).astype(np.float32) if request.param == "with meaning" else None
    train_vectors = None if vectors is None else vectors[: len(dataset)]
    checks = fit_ood_checks(dataset, offtopic_texts=tuning, train_vectors=train_vectors)
    assert checks.topic is not None  # the test is about the full set of checks
    assert (checks.topic.semantic is not None) == (vectors is not None)
    return checks, texts, vectors


def test_flagged_reasons_equal_the_reasons_of_check(fitted):
    checks, texts, vectors = fitted
    expected = [
        {name: c.reason for name, c in item.checks.items() if c.flagged} for item in checks.check(texts, vectors)
    ]
    assert checks.flagged_reasons(texts, vectors) == expected


def test_every_check_flags_something_in_the_inputs(fitted):
    # Otherwise the equality above would not exercise a check's own comparison.
    checks, texts, vectors = fitted
    flagged_by = {name for reasons in checks.flagged_reasons(texts, vectors) for name in reasons}
    assert flagged_by == {"garbage", "language", "oov", "surprise", "topic"}
    passed = sum(1 for reasons in checks.flagged_reasons(texts, vectors) if not reasons)
    assert passed > len(texts) // 2
