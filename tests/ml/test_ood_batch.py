"""The batch screen (ml.ood_batch) reaches the one-text check's verdict on every text, deciding most itself.

``OODChecks._any_flag`` is the reference: on the dataset, every off-topic sample, the tricky and random
inputs of the speed-equivalence test and random texts made to be screened (ASCII words of every kind
the rules look at, plain symbols, odd whitespace, mixed case), for checks without the topic check, with
it, and with its meaning part; in batches of several sizes.  Scores the screen computes are compared
too, and a threshold placed exactly on a text's score must send that text to the one-text check.
"""

import copy
import pickle
import random

import numpy as np
import pytest

from ml import ood_batch
from ml.language import ENGLISH, FOREIGN
from ml.offtopic import TUNING, read_offtopic_samples
from ml.ood import OODChecks, fit_ood_checks, vocabulary_scores
from ml.ood_batch import MIN_BATCH, SEPARATOR_WORD, _Batch, screenable
from ml.text import prepare_text
from tests.test_ood_speed_equivalence import KEYBOARD_LINES, TRICKY, dataset_texts, random_texts

PLAIN_SYMBOLS = "“”’‘—–…→•€£©®™°±×÷§¶🚀🤗🔥🤖💯❤⚡\ufe0f\u200d"
SPACES = [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f"]


def screenable_texts(seed: int = 11, count: int = 1500) -> list[str]:
    """Random texts the screen decides itself, with every kind of token its rules look at."""
    rng = random.Random(seed)
    dataset_words = sorted({w for t in dataset_texts()[:200] for w in t.split()})
    function_words = sorted(set().union(*FOREIGN.values()) | ENGLISH)

    def token() -> str:
        kind = rng.randrange(10)
        if kind == 0:
            return rng.choice(function_words)
        if kind == 1:
            line = rng.choice(KEYBOARD_LINES)
            start = rng.randrange(len(line) - 3)
            return line[start : start + rng.randint(3, 7)]
        if kind == 2:
            return rng.choice("abcdeXYZ") * rng.randint(3, 7)  # runs of one letter, near the 5 of the rule
        if kind == 3:
            return "".join(rng.choice("0123456789_") for _ in range(rng.randint(1, 5)))
        if kind == 4:
            return "".join(rng.choice(PLAIN_SYMBOLS + "!?$%#@.,;:-()'\"/&*") for _ in range(rng.randint(1, 3)))
        if kind == 5:
            word = rng.choice(dataset_words)
            return "".join(c.upper() if rng.random() < 0.2 else c for c in word)  # mixed case
        return rng.choice(dataset_words)

    texts = []
    for _ in range(count):
        tokens = [token() for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 8, 12, 30]))]
        if tokens and rng.random() < 0.15:  # one word repeated, around half of the tokens
            tokens += [tokens[0]] * rng.randint(1, len(tokens) + 1)
            rng.shuffle(tokens)
        glue = [rng.choice(SPACES) if rng.random() < 0.9 else "" for _ in tokens]
        texts.append("".join(t + g for t, g in zip(tokens, glue)))
    return texts


def crafted_texts() -> list[str]:
    return [
        "",
        " ",
        "aAaaa Bbbbb",  # not a run: case differs
        "aaaaa",
        "free shipping!!! $$$ 100% off € £ #deal @you",
        "“quoted” — dashes – and… arrows → 🚀\ufe0f 🤗\u200d🤖",
        "résumé with an accent",
        "x86_64 __init__ 2024 12 3.14 a1 1a",
        "buy buy buy now",
        "data data data data",
        "one\x1ctwo\x1dthree\x1efour\x1ffive six",
        "der die das und ist nicht mit deep learning",
        f"a text that holds the separator {SEPARATOR_WORD} inside",
        f"{SEPARATOR_WORD}",
    ]


def every_input() -> list[str]:
    offtopic = [prepare_text(s.title, s.description) for s in read_offtopic_samples()]
    upper = [t.upper() for t in dataset_texts()[:100]]
    return [*dataset_texts(), *offtopic, *TRICKY, *random_texts(), *screenable_texts(), *crafted_texts(), *upper]


@pytest.fixture(scope="module", params=["no topic", "words only", "with meaning"])
def fitted(request) -> tuple[OODChecks, list[str], list[float | None], np.ndarray | None]:
    samples = read_offtopic_samples()
    tuning = [prepare_text(s.title, s.description) for s in samples if s.slice == TUNING]
    dataset = dataset_texts()
    texts = every_input()
    rng = np.random.default_rng(7)
    vectors = None
    if request.param == "with meaning":  # random vectors stand in for the encoder's: the comparison is tested
        train_vectors = rng.normal(size=(len(dataset), 16)).astype(np.float32)
        checks = fit_ood_checks(dataset, offtopic_texts=tuning, train_vectors=train_vectors)
        assert checks.topic is not None and checks.topic.semantic is not None
        vectors = rng.normal(size=(len(texts), 16)).astype(np.float32)
        distances = checks._semantic_distances(texts, vectors)
        distances[::7] = [None] * len(distances[::7])  # not encoded: the meaning counts 0 sd
        distances[3] = float("nan")
    else:
        checks = fit_ood_checks(dataset, offtopic_texts=tuning if request.param == "words only" else None)
        assert (checks.topic is None) == (request.param == "no topic")
        distances = [None] * len(texts)
    return checks, texts, distances, vectors


def _screened(checks: OODChecks, texts: list[str], distances: list, size: int) -> tuple[list[bool], set[int]]:
    """The screen's verdicts in batches of ``size``, and which texts it left to the one-text check."""
    verdicts, left = [], set()
    for start in range(0, len(texts), size):
        part, part_distances = texts[start : start + size], distances[start : start + size]
        asked: list[str] = []

        def one_text(text: str, distance: float | None, asked: list[str] = asked) -> bool:
            asked.append(text)
            return checks._any_flag(text, distance)

        verdicts += checks._batch_screen().flags(part, part_distances, checks.thresholds, one_text)
        left |= {start + i for i, text in enumerate(part) if text in asked}
    return verdicts, left


@pytest.mark.parametrize("size", [1, MIN_BATCH, 7, 500, 5000])
def test_screen_reaches_the_one_text_verdicts(fitted, size):
    checks, texts, distances, _ = fitted
    expected = [checks._any_flag(text, d) for text, d in zip(texts, distances)]
    verdicts, left = _screened(checks, texts, distances, size)
    assert verdicts == expected
    # The screen decides nearly every dataset text itself, so the equality above is its own; of all the
    # inputs, the ones it can screen, and both verdicts among them.
    can = {i for i, text in enumerate(texts) if screenable(text) and SEPARATOR_WORD not in text.lower()}
    dataset = can & set(range(len(dataset_texts())))
    if size == 1:  # too few for a batch
        assert left == set(range(len(texts)))
    else:
        assert len(dataset - left) > 0.95 * len(dataset) > 0.9 * len(dataset_texts())
        assert len(can - left) > 0.75 * len(can)
        assert 200 < sum(expected[i] for i in can - left) < len(can - left) - 1000


def test_inputs_reach_every_rule(fitted):
    checks, texts, _, vectors = fitted
    all_reasons = checks.flagged_reasons(texts, vectors)
    flagged_by = {name for reasons in all_reasons for name in reasons}
    expected = {"garbage", "language", "oov", "surprise"} | ({"topic"} if checks.topic else set())
    assert flagged_by == expected
    garbage = [reasons["garbage"].split(" (")[0] for reasons in all_reasons if "garbage" in reasons]
    assert {
        "mostly symbols or digits",
        "one word repeated",
        "keyboard mash or nonsense words",
        "long run of one letter",
        "empty or almost no text",
    } <= set(garbage)


def test_vocabulary_scores_are_equal_to_the_last_bit(fitted):
    checks, texts, _, _ = fitted
    texts = [t for t in texts if screenable(t) and SEPARATOR_WORD not in t.lower()]
    surprise, oov, _ = checks._batch_screen()._vocabulary(_Batch(texts))
    scores = [vocabulary_scores(t, checks.unigram, checks.typical_surprise) for t in texts]
    assert surprise.tolist() == [s.surprise for s in scores]
    assert oov.tolist() == [s.oov_share for s in scores]


def test_a_score_on_its_threshold_goes_to_the_one_text_check(fitted):
    checks = fitted[0]
    texts = dataset_texts()[:50]
    target = checks.scores(texts[10]).surprise
    on_edge = OODChecks.from_dict(checks.to_dict())
    on_edge.thresholds["surprise"] = target  # not flagged (score > threshold is false), but within EPSILON
    verdicts, left = _screened(on_edge, texts, [None] * len(texts), 50)
    assert 10 in left
    assert verdicts == [on_edge._any_flag(t, None) for t in texts]


def test_flagged_reasons_equal_the_reasons_of_check(fitted):
    checks, texts, _, vectors = fitted
    expected = [
        {name: c.reason for name, c in item.checks.items() if c.flagged} for item in checks.check(texts, vectors)
    ]
    assert checks.flagged_reasons(texts, vectors) == expected


def test_verdicts_hold_when_the_token_tables_start_afresh(fitted, monkeypatch):
    checks, texts, distances, _ = fitted
    checks = OODChecks.from_dict(checks.to_dict())  # a screen of its own
    monkeypatch.setattr("ml.ood_batch.MAX_TOKENS", 50)
    expected = [checks._any_flag(text, d) for text, d in zip(texts, distances)]
    screen = checks._batch_screen()
    tables, sizes = [], set()  # the tables kept alive, so their ids stay distinct
    for start in range(0, len(texts), 300):
        part = slice(start, start + 300)
        assert screen.flags(texts[part], distances[part], checks.thresholds, checks._any_flag) == expected[part]
        tables.append(screen._words)
        sizes.add(len(screen._content.codes) - len(screen._content._base))
    assert len({id(table) for table in tables}) > 5  # the wording tokens' table was made afresh
    assert min(sizes) < 300  # and the content table too


def test_checks_copy_and_pickle_without_their_screen(fitted):
    checks, texts, distances, vectors = fitted
    expected = checks.flagged_reasons(texts[:300], None if vectors is None else vectors[:300])
    assert checks._screen is not None
    for again in (copy.deepcopy(checks), pickle.loads(pickle.dumps(checks))):
        assert again.to_dict() == checks.to_dict() and again._screen is None
        assert again.flagged_reasons(texts[:300], None if vectors is None else vectors[:300]) == expected


def test_a_token_with_the_separators_hash_is_not_taken_for_it(fitted, monkeypatch):
    checks, texts, distances, _ = fitted
    separator = SEPARATOR_WORD.encode()
    real_hash = hash
    fake = lambda t: real_hash(separator) if t == b"data" else real_hash(t)  # noqa: E731
    monkeypatch.setattr(ood_batch, "hash", fake, raising=False)
    part = [t for t in texts if "data" in t.lower().split()][:300]
    assert len(part) > 50
    expected = [checks._any_flag(text, None) for text in part]
    assert checks._batch_screen().flags(part, [None] * len(part), checks.thresholds, checks._any_flag) == expected


def test_a_stored_vocabulary_with_numbers_and_letters_counts_as_content_tokens_do(fitted):
    checks, texts, distances, _ = fitted
    data = checks.to_dict()
    data["vocabulary"] |= {"2019": 500, "a": 500, "x": 500, "12": 500}  # content_tokens never yields these
    odd = OODChecks.from_dict(data)
    part = [t for t in texts if screenable(t)][:1500]
    assert sum(1 for t in part if " 2019 " in f" {t} " or " a " in f" {t.lower()} ") > 20
    expected = [odd._any_flag(text, None) for text in part]
    assert odd._batch_screen().flags(part, [None] * len(part), odd.thresholds, odd._any_flag) == expected
    surprise, _, _ = odd._batch_screen()._vocabulary(_Batch(part))
    assert surprise.tolist() == [odd.scores(t).surprise for t in part]
