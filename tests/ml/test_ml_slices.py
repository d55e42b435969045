import pytest

from ml.items import LabelledItem
from ml.slices import SLICES, slicing_function

NLP = "natural-language-processing"


def item(title, description="", tag=NLP):
    return LabelledItem(title=title, description=description, tag=tag)


def test_required_slices_are_registered():
    assert {"short_text", "nlp_llm"} <= set(SLICES)


def test_short_text_is_fewer_than_eight_prepared_words():
    seven = item("one two three four", "five six seven")
    eight = item("one two three four", "five six seven eight")
    assert SLICES["short_text"](seven)
    assert not SLICES["short_text"](eight)


def test_short_text_ignores_urls_because_it_looks_at_prepared_text():
    assert SLICES["short_text"](item("tiny", "https://a.b/1 https://a.b/2 x y z w v u"))


@pytest.mark.parametrize(
    "title",
    [
        "Transformers for summarisation",
        "A transformer that reads",
        "Fine-tuning BERT",
        "LLM evaluation",
        "Open LLMs compared",
        "bert-base explained",
    ],
)
def test_nlp_llm_matches_llm_vocabulary_in_nlp_items(title):
    assert SLICES["nlp_llm"](item(title))


@pytest.mark.parametrize("title", ["RoBERTa fine-tuning", "Albert Einstein quotes", "transformational ideas"])
def test_nlp_llm_respects_word_boundaries(title):
    assert not SLICES["nlp_llm"](item(title))


def test_nlp_llm_requires_the_nlp_tag():
    assert not SLICES["nlp_llm"](item("Vision Transformer", tag="computer-vision"))


def test_decorator_registers_and_rejects_duplicates():
    try:

        @slicing_function("test_only_slice")
        def has_gan(it: LabelledItem) -> bool:
            return "gan" in it.title.lower()

        assert SLICES["test_only_slice"] is has_gan
        with pytest.raises(ValueError, match="already registered"):
            slicing_function("test_only_slice")(has_gan)
    finally:
        SLICES.pop("test_only_slice", None)
