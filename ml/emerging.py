"""Emerging topics: groups among the items the model is unsure of, or flags as unlike its training data.

When a new field of work starts to arrive, the model has no tag for it: its items get low
confidence, or fail the per-item checks, and they resemble each other.  This module clusters
such items and describes each cluster by the terms that set it apart from the training texts,
so a person can decide whether it deserves a tag of its own.

Method: each candidate is a vector over the content words (stopwords and numbers dropped, as in
:mod:`ml.ood`) that are commoner among the candidates than in the training texts, weighted by how
much commoner; average-linkage agglomerative clustering on cosine distance, cut at
``DISTANCE_THRESHOLD``; clusters smaller than ``min_size`` are dropped.  Clusters are ranked by
size times cohesion (mean cosine similarity to the cluster centre), so a big loose group does
not outrank a tight one of almost the same size.  Top terms: highest ``log((f_c + k) / (f_t + k))``
where ``f_c`` is the share of the cluster's items that contain the term and ``f_t`` the share of
training texts, so the words the model already knows well rank low.
"""

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ml.ood import content_tokens

if TYPE_CHECKING:
    import numpy as np

DISTANCE_THRESHOLD = (
    0.9  # cosine distance at which two groups are no longer merged (0.7-0.95 tried in make bench-emerging)
)
MIN_SIZE = 5
MAX_CLUSTERS = 8
TOP_TERMS = 8
EXAMPLES = 5
TERM_SMOOTHING = 0.02  # k above: a term in no training text is not infinitely distinctive


@dataclass(frozen=True)
class Cluster:
    members: list[int]  # indices into the candidate list, closest to the centre first
    top_terms: list[str]
    cohesion: float  # mean cosine similarity of the members to the centre

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def score(self) -> float:
        return self.size * self.cohesion

    def examples(self, count: int = EXAMPLES) -> list[int]:
        return self.members[:count]


def find_clusters(
    candidates: list[str],
    training_texts: list[str],
    *,
    min_size: int = MIN_SIZE,
    max_clusters: int = MAX_CLUSTERS,
    distance_threshold: float | None = None,
) -> list[Cluster]:
    """Clusters of prepared ``candidates`` (best first), described against prepared ``training_texts``."""
    usable = [i for i, text in enumerate(candidates) if content_tokens(text)]
    if len(usable) < max(2, min_size):
        return []
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering

    matrix = _distinctive_vectors([candidates[i] for i in usable], training_texts)
    # An item with no word commoner than in training belongs to no new topic.
    keep = np.flatnonzero(matrix.any(axis=1))
    if len(keep) < max(2, min_size):
        return []
    usable, matrix = [usable[i] for i in keep], matrix[keep]
    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance_threshold or DISTANCE_THRESHOLD
    ).fit_predict(matrix)
    training_share = _document_shares(training_texts)
    clusters = []
    for label, count in Counter(labels).items():
        if count < min_size:
            continue
        rows = np.flatnonzero(labels == label)
        centre = matrix[rows].mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        similarity = matrix[rows] @ centre
        order = rows[np.argsort(-similarity, kind="stable")]
        members = [usable[i] for i in order]
        terms = _top_terms([candidates[i] for i in members], training_share, len(training_texts))
        clusters.append(Cluster(members=members, top_terms=terms, cohesion=float(similarity.mean())))
    clusters.sort(key=lambda c: (-c.score, c.members[0]))
    return clusters[:max_clusters]


def _distinctive_vectors(candidates: list[str], training_texts: list[str]) -> "np.ndarray":
    """Unit-length vectors over the words that are commoner among the candidates than in training.

    Each word present in a candidate weighs ``log((f_c + k) / (f_t + k))`` (candidate vs training
    document share, as for the top terms), words the training texts use as much or more weigh 0:
    a new field's items share words the model never learnt, and those words alone should pull
    them together, not "learning" or "model", which every item has.
    """
    import numpy as np

    token_sets = [set(content_tokens(text)) for text in candidates]
    inside, training = Counter(t for tokens in token_sets for t in tokens), _document_shares(training_texts)
    size, total = len(candidates), max(len(training_texts), 1)
    weights = {
        term: math.log((count / size + TERM_SMOOTHING) / (training.get(term, 0) / total + TERM_SMOOTHING))
        for term, count in inside.items()
        if count >= 2
    }
    vocabulary = {term: column for column, term in enumerate(sorted(t for t, w in weights.items() if w > 0))}
    matrix = np.zeros((len(candidates), max(len(vocabulary), 1)))
    for row, tokens in enumerate(token_sets):
        for term in tokens & vocabulary.keys():
            matrix[row, vocabulary[term]] = weights[term]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def _document_shares(texts: list[str]) -> Counter[str]:
    return Counter(token for text in texts for token in set(content_tokens(text)))


def _top_terms(texts: list[str], training_counts: Counter[str], training_size: int) -> list[str]:
    inside = _document_shares(texts)
    size, total = len(texts), max(training_size, 1)
    # A term must be in at least two members (or all of a tiny cluster) to describe the group.
    floor = min(2, size)
    scores = {
        term: math.log((count / size + TERM_SMOOTHING) / (training_counts.get(term, 0) / total + TERM_SMOOTHING))
        * count
        / size
        for term, count in inside.items()
        if count >= floor
    }
    return [term for term, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:TOP_TERMS]]
