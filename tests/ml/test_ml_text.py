from ml.text import prepare_text, word_count


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
