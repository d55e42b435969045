"""Turn a title and a description into the single string every model sees.

Training and prediction must see text prepared in exactly the same way, so
this is the only place that decides what "the text" of an item is.
"""

import re

# URLs are mostly noise (tracking parameters, hashes) and leak the hosting
# site rather than the topic, so they are dropped before tokenisation.
_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def prepare_text(title: str, description: str) -> str:
    """Join title and description (title first), lowercase, drop URLs, collapse whitespace."""
    # `or ""` tolerates a missing description coming from a nullable column.
    joined = f"{title or ''} {description or ''}"
    without_urls = _URL.sub(" ", joined.lower())
    return _WHITESPACE.sub(" ", without_urls).strip()


def word_count(text: str) -> int:
    """Number of whitespace-separated tokens in ``text``."""
    return len(text.split())
