"""How a model does on content newer than what it learnt from: a time-ordered validation inside the training set.

A random cross-validation mixes old and new items, so its operating point promises
what the model does on content like its training data.  The live stream is newer than
all of it.  Forward chaining imitates that inside the training set: order the items by
time, and for each of the newest ``folds`` slices train on everything before the slice
and predict the slice.  The predictions, each with whether it was right, are the
evidence :mod:`ml.trust` starts from (its prior): the threshold they prove, and the
baseline live audits are pooled with.  Nothing of the stream is used.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ml.prediction import predict
from ml.training import train_model
from ml.trust import Audit

# A slice smaller than this says little, and the models before it learn from too little.
MIN_SLICE = 20


def forward_slices(count: int, *, folds: int, share: float) -> list[tuple[range, range]]:
    """(train, test) index ranges over ``count`` time-ordered items, oldest slice first; [] when too small.

    Slice k (k = 1 is the newest) holds ``share`` of the items; its model trains on every
    item before it.
    """
    if folds < 1 or not 0 < share < 1 or folds * share >= 1:
        raise ValueError(f"folds x share must leave items to train on (folds {folds}, share {share})")
    size = round(count * share)
    if size < MIN_SLICE:
        return []
    pairs = []
    for k in range(folds, 0, -1):
        end = count - (k - 1) * size
        pairs.append((range(0, end - size), range(end - size, end)))
    return pairs


@dataclass(frozen=True)
class ValidationItem:
    """One newest-slice item: its slice (0 = oldest), its index in the texts, the tag predicted and its confidence."""

    slice: int
    index: int
    tag: str
    confidence: float
    correct: bool

    @property
    def audit(self) -> Audit:
        return Audit(self.confidence, self.correct)


def time_ordered_predictions(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    algorithm: str,
    folds: int,
    share: float,
    random_state: int = 0,
    counted: Sequence[bool] | None = None,
) -> list[ValidationItem]:
    """Each newest-slice item's prediction by a model that never saw it, with its slice and index.

    ``texts`` and ``labels`` are in time order, oldest first.  ``counted`` (optional) marks
    the items whose label is a fair sample: only those are evidence (labels asked for
    because a model was unsure over-represent hard items), though all train the models.
    """
    evidence = []
    for number, (train, test) in enumerate(forward_slices(len(texts), folds=folds, share=share)):
        train_labels = [labels[i] for i in train]
        if len(set(train_labels)) < 2 or min(Counter(train_labels).values()) < 2:
            continue  # too little to train on: this slice proves nothing
        model = train_model(
            texts=[texts[i] for i in train], labels=train_labels, algorithm=algorithm, random_state=random_state
        )
        kept = [i for i in test if counted is None or counted[i]]
        results = predict(model, [texts[i] for i in kept])
        evidence += [
            ValidationItem(number, i, result.tag, result.confidence, result.tag == labels[i])
            for i, result in zip(kept, results)
        ]
    return evidence
