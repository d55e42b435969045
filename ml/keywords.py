"""The hand-written keywords of the rules baseline, and the matching of them, without scikit-learn.

:mod:`ml.rules` wraps them in a scikit-learn classifier; the rules' opinion on an online prediction
(:mod:`ml.second_opinion`) needs only the matching, so a web process imports this module and not
scikit-learn (which it otherwise never needs: the serving form, :mod:`ml.serving_form`).
"""

import functools
import re
from collections.abc import Mapping, Sequence

import numpy as np

# Written from domain knowledge, not mined from the dataset, so the baseline
# stays independent of the data it is compared on.  Multi-word phrases are
# allowed; a trailing "s"/"es" plural is matched automatically.  Tags missing
# from this dict simply never get keyword hits.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "computer-vision": (
        "image",
        "vision",
        "visual",
        "video",
        "pixel",
        "photo",
        "camera",
        "object detection",
        "detection",
        "segmentation",
        "yolo",
        "gan",
        "cnn",
        "convolutional",
        "resnet",
        "imagenet",
        "face",
        "facial",
        "pose estimation",
        "opencv",
        "style transfer",
        "super-resolution",
        "depth estimation",
        "point cloud",
        "ocr",
        "inpainting",
        "deepfake",
        "unet",
        "u-net",
        "rcnn",
        "r-cnn",
        "stable diffusion",
        "lidar",
    ),
    "natural-language-processing": (
        "text",
        "language",
        "nlp",
        "bert",
        "transformer",
        "translation",
        "sentiment",
        "summarization",
        "question answering",
        "chatbot",
        "dialogue",
        "word2vec",
        "glove",
        "gpt",
        "llm",
        "tokenizer",
        "tokenization",
        "named entity",
        "ner",
        "corpus",
        "spacy",
        "hugging face",
        "huggingface",
        "seq2seq",
        "sentence",
        "linguistic",
        "word embedding",
        "roberta",
        "fasttext",
        "topic modeling",
        "speech",
    ),
    "mlops": (
        "mlops",
        "deployment",
        "deploy",
        "production",
        "monitoring",
        "pipeline",
        "serving",
        "kubernetes",
        "docker",
        "mlflow",
        "kubeflow",
        "airflow",
        "dvc",
        "feature store",
        "experiment tracking",
        "versioning",
        "reproducibility",
        "orchestration",
        "serverless",
        "ci/cd",
        "devops",
        "infrastructure",
        "fastapi",
        "flask",
        "api",
        "sagemaker",
        "data validation",
        "drift",
        "model registry",
    ),
    "other": (
        "graph",
        "reinforcement learning",
        "time series",
        "time-series",
        "recommendation",
        "recommender",
        "tabular",
        "anomaly",
        "forecasting",
        "gnn",
        "node",
        "agent",
        "reward",
        "q-learning",
        "bandit",
        "clustering",
        "audio",
        "music",
        "bayesian",
        "causal",
        "quantum",
    ),
}


def _pattern(keywords: Sequence[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    # Longest first so "object detection" is preferred over "detection"
    # inside one alternation (each occurrence is counted once).
    ordered = sorted(keywords, key=len, reverse=True)
    return re.compile(rf"\b(?:{_alternation(ordered, flags)})(?:s|es)?\b", flags)


def _alternation(ordered: list[str], flags: int) -> str:
    """The keywords as one alternation, in their order within each first character: ``d(?:etection|eepfake)|o(?:cr)``.

    The engine tries the alternatives one by one at every word boundary; grouped, it rejects a group on its first
    character (the trust score's scans a fifth faster). The same matches: keywords of different first characters
    cannot both match at one place, so only the order within a group counts, and it is kept. Ignoring case, a
    non-ASCII first character may match what an ASCII one does (the long s matches "s"): then, and with an empty
    keyword, the alternation stays plain.
    """
    plain = "|".join(re.escape(keyword) for keyword in ordered)
    ignore_case = bool(flags & re.IGNORECASE)
    if not all(ordered) or (ignore_case and not all(keyword[0].isascii() for keyword in ordered)):
        return plain
    groups: dict[str, list[str]] = {}
    for keyword in ordered:
        groups.setdefault(keyword[0].lower() if ignore_case else keyword[0], []).append(keyword)
    return "|".join(
        re.escape(group[0][0]) + "(?:" + "|".join(re.escape(keyword[1:]) for keyword in group) + ")"
        for group in groups.values()
    )


@functools.cache  # the trust score asks for one text at a time: building the alternation per call cost most of it
def _cached_patterns(keywords: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The alternation case-insensitive, and for lowercased ASCII text (the keywords are lowercase ASCII).

    The second one is re.ASCII: on ASCII text its word boundaries are Unicode's (a letter, a digit or "_" either
    way), found by a table look-up instead of a Unicode class query, the scans a quarter faster.
    """
    return _pattern(keywords), _pattern(tuple(keyword.lower() for keyword in keywords), flags=re.ASCII)


def count_keyword_hits(
    texts: Sequence[str], *, keywords: Mapping[str, Sequence[str]], classes: Sequence[str]
) -> np.ndarray:
    """Matrix (n_texts, n_classes) of keyword occurrences per class."""
    patterns = _class_patterns(keywords, classes)
    return np.array([keyword_hits(text, patterns) for text in texts], dtype=float).reshape(len(texts), len(classes))


ClassPatterns = list[tuple[re.Pattern[str], re.Pattern[str]] | None]


def _class_patterns(keywords: Mapping[str, Sequence[str]], classes: Sequence[str]) -> ClassPatterns:
    return [_cached_patterns(tuple(keywords[c])) if keywords.get(c) else None for c in classes]


@functools.cache
def default_class_patterns(classes: tuple[str, ...]) -> ClassPatterns:
    """The patterns of :data:`KEYWORDS` for ``classes``, built once (the trust score asks per item)."""
    return _class_patterns(KEYWORDS, classes)


def keyword_hits(text: str, patterns: ClassPatterns) -> list[int]:
    """Keyword occurrences per class in one text (``patterns`` from :func:`default_class_patterns`)."""
    # Matching lowercased ASCII text case-sensitively finds the same hits 3x faster than re.IGNORECASE (every
    # batch and online prediction asks the rules' opinion). Other text keeps IGNORECASE: Unicode case folding
    # matches letters that lower() leaves alone (the long s matches "s").
    if text.isascii():
        lowered = text.lower()
        return [len(pair[1].findall(lowered)) if pair is not None else 0 for pair in patterns]
    return [len(pair[0].findall(text)) if pair is not None else 0 for pair in patterns]
