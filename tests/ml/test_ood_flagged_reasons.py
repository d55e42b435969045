"""``OODChecks.flagged_reasons`` (the batch path of a re-prediction chunk) says what ``check`` says.

It skips writing the reasons of checks that pass, so it must reach the same verdict by
the same comparisons: here every text of the dataset, every off-topic sample (the
never-tuned kinds included), the tricky and the random inputs of the speed-equivalence
test, against checks fitted with the topic check as training fits them.
"""

import pytest

from ml.offtopic import TUNING, read_offtopic_samples
from ml.ood import fit_ood_checks
from ml.text import prepare_text
from tests.test_ood_speed_equivalence import TRICKY, dataset_texts, random_texts


@pytest.fixture(scope="module")
def fitted():
    samples = read_offtopic_samples()
    offtopic = [prepare_text(s.title, s.description) for s in samples]
    tuning = [text for text, s in zip(offtopic, samples) if s.slice == TUNING]
    dataset = dataset_texts()
    checks = fit_ood_checks(dataset, offtopic_texts=tuning)
    assert checks.topic is not None  # the test is about the full set of checks
    return checks, [*dataset, *offtopic, *TRICKY, *random_texts()]


def test_flagged_reasons_equal_the_reasons_of_check(fitted):
    checks, texts = fitted
    expected = [{name: c.reason for name, c in item.checks.items() if c.flagged} for item in checks.check(texts)]
    assert checks.flagged_reasons(texts) == expected


def test_every_check_flags_something_in_the_inputs(fitted):
    # Otherwise the equality above would not exercise a check's own comparison.
    checks, texts = fitted
    flagged_by = {name for reasons in checks.flagged_reasons(texts) for name in reasons}
    assert flagged_by == {"garbage", "language", "oov", "surprise", "topic"}
    passed = sum(1 for reasons in checks.flagged_reasons(texts) if not reasons)
    assert passed > len(texts) // 2
