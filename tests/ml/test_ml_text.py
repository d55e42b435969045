import re
import sys
from pathlib import Path

import pytest

from ml.dataset import read_dataset_rows
from ml.text import _URL, prepare_text, word_count

DATASET = Path(__file__).resolve().parents[2] / "data" / "madewithml_dataset.csv"


def test_title_comes_first_and_is_joined_with_description():
    assert prepare_text("Title", "Description") == "title description"


def test_lowercases():
    assert prepare_text("YOLO Detects", "BERT Reads") == "yolo detects bert reads"


def test_removes_urls_of_every_common_form():
    text = prepare_text("Repo", "see https://github.com/a/b?x=1 and http://x.io www.example.com/page now")
    assert text == "repo see and now"


def test_collapses_newlines_tabs_and_repeated_spaces():
    assert prepare_text("  A\tB ", "line one\n\n  line   two\r\n") == "a b line one line two"


def test_empty_description_gives_title_only():
    assert prepare_text("Only a title", "") == "only a title"


def test_is_deterministic_and_idempotent():
    once = prepare_text("Some Title", "Body with https://u.rl  spaces")
    assert prepare_text("Some Title", "Body with https://u.rl  spaces") == once
    assert prepare_text(once, "") == once


def test_word_count():
    assert word_count("a b  c\n d") == 4
    assert word_count("") == 0
    assert word_count("   ") == 0


# prepare_text as it was first written, with patterns: the faster one must make the same text of everything.
_WHITESPACE = re.compile(r"\s+")


def _by_patterns(title: str, description: str) -> str:
    joined = f"{title or ''} {description or ''}"
    return _WHITESPACE.sub(" ", _URL.sub(" ", joined.lower())).strip()


def _every_character() -> list[str]:
    return [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF]


def test_the_same_text_as_the_patterns_on_every_character():
    # Each character between letters, and alone: whitespace or not, cased or not, as the patterns saw it.
    characters = _every_character()
    assert prepare_text("a" + "a".join(characters) + "a", "") == _by_patterns("a" + "a".join(characters) + "a", "")
    for start in range(0, len(characters), 4096):
        for character in characters[start : start + 4096]:
            assert prepare_text(character, character) == _by_patterns(character, character), hex(ord(character))


def test_only_the_url_characters_themselves_match_them_ignoring_case():
    # The URL scan is skipped unless "://" or "www." occurs: no other character may match these under IGNORECASE.
    matching = re.compile(r"[w:/.]", re.IGNORECASE).findall("".join(_every_character()))
    assert {character.lower() for character in matching} == set("w:/.")


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("WWW.Example.COM/x page", ""),
        ("see HTTPS://A.B/c", "and Ftp://x.y too"),
        ("httpſ://long-s.example", "ſ"),  # the long s matches "s" ignoring case
        ("www", "no dot"),
        ("a://b", "c :// d"),
        ("  \u2003lead\u00a0nbsp\u2028sep\x1c\x1f ", "\u3000"),
        (None, None),
        ("İstanbul ΣΑΣ", "Straße"),
        ("trailing www.", ""),
    ],
)
def test_the_same_text_as_the_patterns_on_crafted_inputs(title, description):
    assert prepare_text(title, description) == _by_patterns(title, description)


def test_the_same_text_as_the_patterns_on_the_dataset():
    rows = read_dataset_rows(DATASET)
    assert len(rows) > 500
    for row in rows:
        assert prepare_text(row.item.title, row.item.description) == _by_patterns(row.item.title, row.item.description)
