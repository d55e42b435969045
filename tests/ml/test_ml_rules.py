import random
import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from ml.dataset import read_dataset_rows
from ml.keywords import _pattern
from ml.rules import KEYWORDS, KeywordClassifier, default_class_patterns, keyword_hits

CV, NLP, OPS, OTHER = "computer-vision", "natural-language-processing", "mlops", "other"
# NLP most frequent, so it is the fallback.
TRAIN_LABELS = [NLP] * 4 + [CV] * 3 + [OPS] * 2 + [OTHER]


@pytest.fixture
def model():
    return KeywordClassifier().fit(["x"] * len(TRAIN_LABELS), TRAIN_LABELS)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("real-time object detection in video with yolo", CV),
        ("semantic segmentation of satellite images", CV),
        ("sentiment analysis of text with bert", NLP),
        ("neural machine translation with transformers", NLP),
        ("deploying models to kubernetes with monitoring and mlflow", OPS),
        ("graph neural networks for node classification", OTHER),
    ],
)
def test_obvious_examples(model, text, expected):
    assert model.predict([text])[0] == expected


def test_fit_records_sorted_classes_and_most_frequent_fallback(model):
    assert list(model.classes_) == sorted({CV, NLP, OPS, OTHER})
    assert model.fallback_ == NLP


def test_no_keyword_hits_predicts_fallback_with_training_prior(model):
    proba = model.predict_proba(["completely unrelated words here"])[0]
    assert model.predict(["completely unrelated words here"])[0] == NLP
    counts = {c: TRAIN_LABELS.count(c) for c in model.classes_}
    expected = np.array([counts[c] for c in model.classes_]) / len(TRAIN_LABELS)
    np.testing.assert_allclose(proba, expected)


def test_probabilities_sum_to_one_and_are_never_exactly_zero_or_one(model):
    proba = model.predict_proba(["image image image image image detection yolo gan", "", "text"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba > 0).all() and (proba < 1).all()


def test_more_hits_mean_more_confidence(model):
    one, three = model.predict_proba(["an image", "an image with detection and segmentation"])
    cv = list(model.classes_).index(CV)
    assert three[cv] > one[cv]


def test_plural_forms_match(model):
    assert model.predict(["many images and videos"])[0] == CV


def test_tags_without_keywords_get_no_hits():
    custom = KeywordClassifier(keywords={"a": ("apple",)}).fit(["x", "y", "z"], ["b", "b", "a"])
    proba = custom.predict_proba(["banana banana"])[0]
    np.testing.assert_allclose(proba, [1 / 3, 2 / 3])  # only the prior
    assert custom.predict(["apple pie"])[0] == "a"


def test_every_keyword_tag_is_a_known_tag():
    assert set(KEYWORDS) == {CV, NLP, OPS, OTHER}


def test_is_a_well_behaved_sklearn_estimator(model):
    copy = clone(model)
    assert copy.get_params() == {"keywords": None, "smoothing": 1.0}
    with pytest.raises(NotFittedError):
        copy.predict(["image"])


def test_rejects_single_string_input(model):
    with pytest.raises(ValueError, match="list of texts"):
        model.predict("an image")


def _case_insensitive_hits(text: str) -> list[int]:
    """The definition: each class's alternation with re.IGNORECASE on the text as it is."""
    import re

    hits = []
    for tag in sorted(KEYWORDS):
        alternation = "|".join(re.escape(k) for k in sorted(KEYWORDS[tag], key=len, reverse=True))
        pattern = re.compile(rf"\b(?:{alternation})(?:s|es)?\b", re.IGNORECASE)
        hits.append(len(pattern.findall(text)))
    return hits


def test_keyword_hits_equal_case_insensitive_matching_on_dataset_and_odd_text(dataset_file):
    from ml.dataset import read_labelled_csv
    from ml.rules import default_class_patterns, keyword_hits
    from ml.text import prepare_text

    dataset_items = read_labelled_csv(dataset_file)
    patterns = default_class_patterns(tuple(sorted(KEYWORDS)))
    texts = [prepare_text(item.title, item.description) for item in dataset_items]
    texts += [f"{item.title.upper()} {item.description}" for item in dataset_items[:200]]
    # Unicode whose case folding reaches ASCII letters (long s, Kelvin sign, dotted I), and plain mixed case.
    texts += ["Object DETECTION with YOLOs", "CNNſ for ſegmentation", "\u212aubernetes and mlflow", "\u0130MAGE nets"]
    assert any(sum(keyword_hits(text, patterns)) for text in texts[-4:])
    assert [keyword_hits(text, patterns) for text in texts] == [_case_insensitive_hits(text) for text in texts]


def _plain_pattern(keywords, flags):
    # ml.rules._pattern as it was first written: one alternation of every keyword, longest first.
    ordered = sorted(keywords, key=len, reverse=True)
    return re.compile(rf"\b(?:{'|'.join(re.escape(k) for k in ordered)})(?:s|es)?\b", flags)


def _keyword_soup(seed: int, count: int, keywords: tuple[str, ...] = ()) -> list[str]:
    """Texts of keywords, their parts, suffixes, case changes and characters that match letters ignoring case."""
    rng = random.Random(seed)
    words = sorted({k for ks in KEYWORDS.values() for k in ks} | set(keywords))
    pieces = [*words, "s", "es", "-", " ", "ſ", "\u212a", "İ", "ı", "é", "_", "1", "a", "x", "cnn", "r-", "image"]

    def piece() -> str:
        word = rng.choice(pieces)
        cut = rng.randrange(len(word) + 1)
        shaped = rng.choice([word, word.upper(), word.title(), word[:cut], word[cut:]])
        return shaped + rng.choice(["", " ", "s", "es", "-", "."])

    return ["".join(piece() for _ in range(rng.randrange(1, 12))) for _ in range(count)]


@pytest.mark.parametrize("flags", [re.IGNORECASE, 0])
@pytest.mark.parametrize(
    "keywords",
    [
        *[tuple(KEYWORDS[c]) for c in sorted(KEYWORDS)],
        tuple(k for ks in KEYWORDS.values() for k in ks),
        ("Image", "image net", "imagenet", "i", "İx", "Kelvin", "kelvin scale", "ſoft", "soft", "s"),  # plain
        ("Abc", "abd", "a", "A-b", "b.c", "b", "x y"),
        ("image", "image net", "net", "neural net", "neural network", "neural", "nets"),  # a phrase holds a keyword
        ("", "cnn"),
    ],
)
def test_grouped_alternation_finds_what_the_plain_one_finds(flags, keywords, dataset_file):
    texts = [f"{r.item.title} {r.item.description}" for r in read_dataset_rows(dataset_file)]
    texts += _keyword_soup(18, 3000, keywords)
    grouped, plain = _pattern(keywords, flags), _plain_pattern(keywords, flags)
    assert [grouped.findall(t) for t in texts] == [plain.findall(t) for t in texts]
    assert [grouped.findall(t.lower()) for t in texts] == [plain.findall(t.lower()) for t in texts]


def test_the_keyword_patterns_are_grouped():
    # Else the test above compares the plain alternation with itself.
    assert "(?:" in _pattern(KEYWORDS["mlops"]).pattern.removeprefix(r"\b(?:")


@pytest.mark.parametrize("keywords", [tuple(KEYWORDS[c]) for c in sorted(KEYWORDS)])
def test_the_ascii_pattern_finds_on_ascii_text_what_unicode_word_boundaries_find(keywords, dataset_file):
    texts = [f"{r.item.title} {r.item.description}".lower() for r in read_dataset_rows(dataset_file)]
    texts += [t.lower() for t in _keyword_soup(18, 3000, keywords)] + [
        "".join(map(chr, range(128))) + " cnn_ cnn9 9cnn"
    ]
    ascii_texts = [t for t in texts if t.isascii()]
    assert len(ascii_texts) > 2000
    lowered = tuple(k.lower() for k in keywords)
    ours, unicode = _pattern(lowered, re.ASCII), _plain_pattern(lowered, 0)
    assert [ours.findall(t) for t in ascii_texts] == [unicode.findall(t) for t in ascii_texts]


def test_keyword_hits_are_those_of_the_plain_case_insensitive_patterns(dataset_file):
    texts = [f"{r.item.title} {r.item.description}" for r in read_dataset_rows(dataset_file)] + _keyword_soup(7, 3000)
    classes = tuple(sorted(KEYWORDS))
    plain = [_plain_pattern(tuple(KEYWORDS[c]), re.IGNORECASE) for c in classes]
    patterns = default_class_patterns(classes)
    assert [keyword_hits(t, patterns) for t in texts] == [[len(p.findall(t)) for p in plain] for t in texts]
