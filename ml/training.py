"""Fit an algorithm from the catalogue on prepared texts and their labels."""

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from ml.algorithms import CALIBRATION_FOLDS, CALIBRATION_FOLDS_LARGE, LARGE_TRAINING_SET, get_algorithm

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, str], None]


def train_model(
    *,
    texts: list[str],
    labels: list[str],
    algorithm: str,
    random_state: int = 0,
    progress: ProgressCallback | None = None,
) -> Pipeline:
    """Return the named algorithm fitted on ``texts`` (already prepared) and ``labels``.

    Raises ValueError for an unknown algorithm or unusable data (mismatched
    lengths, empty texts, fewer than two distinct labels).  Calibration folds
    shrink to fit the rarest class, and for large training sets; see
    :func:`adapt_calibration`.
    """
    report = progress or _ignore_progress
    report(0, "validating")
    factory = get_algorithm(algorithm)
    class_counts = validate_training_data(texts=texts, labels=labels)
    report(10, "configuring")
    pipeline = adapt_calibration(
        factory(random_state), smallest_class=min(class_counts.values()), random_state=random_state, n_items=len(labels)
    )
    report(20, "fitting")
    pipeline.fit(list(texts), list(labels))
    report(100, "done")
    return pipeline


def validate_training_data(*, texts: Sequence[str], labels: Sequence[str]) -> Counter[str]:
    """Check the data can train a classifier; return the count of each label."""
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
    if not any(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError("no training text: every text is empty")
    if any(not isinstance(label, str) or not label for label in labels):
        raise ValueError("every label must be a non-empty string")
    counts = Counter(labels)
    if len(counts) < 2:
        found = ", ".join(repr(label) for label in counts) or "none"
        raise ValueError(f"need examples of at least 2 distinct labels to train; found {found}")
    return counts


def adapt_calibration(
    pipeline: Pipeline, *, smallest_class: int, random_state: int, n_items: int | None = None
) -> Pipeline:
    """Make calibration steps feasible for a label set whose rarest class has ``smallest_class`` items.

    Stratified calibration CV needs every class in every fold, so the folds
    become ``min(configured, smallest_class)``, shuffled with ``random_state``
    so the result does not depend on row order.  A training set of at least
    :data:`ml.algorithms.LARGE_TRAINING_SET` items (``n_items``) uses at most
    :data:`ml.algorithms.CALIBRATION_FOLDS_LARGE` folds: as well calibrated,
    a third less fitting (see there).  With a single example of
    some class no CV is possible: the step falls back to an uncalibrated
    probabilistic linear model rather than refusing to train, because early
    in labelling a rare tag with one example is normal.
    """
    for name, step in pipeline.steps:
        if not isinstance(step, CalibratedClassifierCV):
            continue
        if smallest_class >= 2:
            folds = min(_configured_folds(step), smallest_class)
            if n_items is not None and n_items >= LARGE_TRAINING_SET:
                folds = min(folds, CALIBRATION_FOLDS_LARGE)
            step.set_params(cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state))
        else:
            logger.warning("a label has only 1 example; %r is trained without probability calibration", name)
            pipeline.set_params(**{name: _uncalibrated(step, random_state=random_state)})
    return pipeline


def _configured_folds(step: CalibratedClassifierCV) -> int:
    return step.cv if isinstance(step.cv, int) else CALIBRATION_FOLDS


def _uncalibrated(step: CalibratedClassifierCV, *, random_state: int) -> BaseEstimator:
    base = step.estimator
    if base is not None and hasattr(base, "predict_proba"):
        return clone(base)
    # e.g. LinearSVC has no predict_proba: its closest probabilistic cousin.
    return LogisticRegression(random_state=random_state, max_iter=1000)


def training_data_hash(pairs: Iterable[tuple[str, str]]) -> str:
    """sha256 hex digest of the (key, label) pairs, independent of their order.

    Lets the caller tell whether two training runs saw exactly the same
    labelled data.  Pairs are serialised as JSON so no choice of separator
    can make two different data sets collide.
    """
    canonical = sorted([str(key), str(label)] for key, label in pairs)
    payload = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _ignore_progress(percent: int, stage: str) -> None:
    """Default progress callback: training is silent unless asked."""
