"""Plain value objects exchanged between the ML core and its callers."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LabelledItem:
    """One piece of content together with its (human-assigned) tag."""

    title: str
    description: str
    tag: str


@dataclass(frozen=True)
class PredictionResult:
    """A model's answer for one text.

    ``probabilities`` has one entry per label the model was trained on and
    sums to 1; ``confidence`` is the probability of ``tag``.
    """

    tag: str
    probabilities: dict[str, float] = field(hash=False)
    confidence: float
