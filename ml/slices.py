"""Named subsets ("slices") of the data that deserve their own metrics.

Overall scores hide regressions on small but important groups; each slice
here is a predicate over a labelled item, and evaluation reports metrics
for every registered slice.  Add a slice by decorating a function::

    @slicing_function("my_slice")
    def my_slice(item: LabelledItem) -> bool: ...
"""

import re
from collections.abc import Callable

from ml.items import LabelledItem
from ml.text import prepare_text, word_count

SliceFunction = Callable[[LabelledItem], bool]

SLICES: dict[str, SliceFunction] = {}

NLP_TAG = "natural-language-processing"
SHORT_TEXT_MAX_WORDS = 7  # "fewer than 8 words"

_LLM_TERMS = re.compile(r"\b(?:transformers?|llms?|bert)\b", re.IGNORECASE)


def slicing_function(name: str) -> Callable[[SliceFunction], SliceFunction]:
    """Register the decorated predicate in :data:`SLICES` under ``name``."""

    def register(function: SliceFunction) -> SliceFunction:
        # Silently replacing a slice would change reported metrics unnoticed.
        if name in SLICES:
            raise ValueError(f"slice {name!r} is already registered")
        SLICES[name] = function
        return function

    return register


def _text_of(item: LabelledItem) -> str:
    return prepare_text(item.title, item.description)


@slicing_function("short_text")
def short_text(item: LabelledItem) -> bool:
    """Little text to go on: fewer than 8 words after preparation."""
    return word_count(_text_of(item)) <= SHORT_TEXT_MAX_WORDS


@slicing_function("nlp_llm")
def nlp_llm(item: LabelledItem) -> bool:
    """NLP content about transformers / LLMs / BERT, the fastest-moving topic."""
    return item.tag == NLP_TAG and _LLM_TERMS.search(_text_of(item)) is not None
