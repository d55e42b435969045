"""Model selection by stratified cross-validation, with out-of-fold predictions.

Every item gets exactly one prediction from a model that never saw it.
Those out-of-fold (OOF) predictions are what the review threshold and the
suspect-label search are computed from: they use all the labelled data
without a holdout and without the optimism of scoring training data.
"""

import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.parallel import Parallel, delayed

from ml.items import PredictionResult
from ml.operating_point import DEFAULT_TARGET_PRECISION, operating_point
from ml.prediction import predict
from ml.training import train_model, validate_training_data

ProgressCallback = Callable[[int, str], None]

DECIMALS = 4


@dataclass(frozen=True)
class CrossValidation:
    """Result of :func:`cross_validate`; ``oof[i]`` is the prediction for input ``i``."""

    algorithm: str
    folds: int
    fold_f1: list[float]
    mean_f1: float
    sd_f1: float
    oof: list[PredictionResult]
    fit_seconds: list[float]
    # With ``refit=True``: the algorithm fitted on all the data (else None).
    model: Pipeline | None = field(default=None, compare=False, repr=False)


def cross_validate(
    *,
    texts: list[str],
    labels: list[str],
    algorithm: str,
    folds: int = 5,
    random_state: int = 0,
    progress: ProgressCallback | None = None,
    n_jobs: int | None = None,
    refit: bool = False,
) -> CrossValidation:
    """Shuffled stratified k-fold CV of ``algorithm`` trained through :func:`ml.training.train_model`.

    ``folds`` shrinks to the size of the rarest class (so every fold sees
    every class), but never below 2.  Per-fold weighted F1 is over the
    labels present in the data; sd is the sample standard deviation.

    ``refit=True`` also fits the algorithm on all the data, as one more job
    beside the folds, and returns it as ``model``.  ``n_jobs`` runs the fits
    on that many threads (joblib's convention: None or 1 sequential, -1 one
    per core).  Threads, not processes: liblinear and the BLAS release the
    GIL, the process's embedding cache is shared, and a Celery prefork
    worker's daemonic children may not start processes of their own.  One
    caveat: liblinear draws its coordinate order from one process-wide
    generator (scikit-learn issue #8410), so two LinearSVC fits that overlap
    in time may converge to solutions that differ within the solver's
    tolerance (probabilities ~1e-6 apart); only ``n_jobs=None`` (the
    default) is bit-for-bit reproducible.  ``progress`` is only ever called
    from the calling thread.
    """
    report = progress or _ignore_progress
    counts = validate_training_data(texts=texts, labels=labels)
    k = adapted_folds(counts, folds)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
    all_labels = sorted(counts)
    with warnings.catch_warnings():
        # A class with a single example cannot be in every fold; accepted knowingly.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        splits = list(splitter.split(texts, labels))
    # The refit goes first: it is the biggest job, so the others fill in around it.
    jobs: list[tuple[int | None, Any, Any]] = ([(None, list(range(len(texts))), [])] if refit else []) + [
        (number, train, test) for number, (train, test) in enumerate(splits)
    ]
    oof: list[PredictionResult | None] = [None] * len(texts)
    scores: list[float] = [0.0] * k
    seconds: list[float] = [0.0] * k
    model = None
    report(0, f"fitting {k} folds{' and the final model' if refit else ''}")
    # sklearn's Parallel carries its config into the threads; "generator_unordered"
    # hands each result to this thread as soon as its fit is done.
    runner = Parallel(n_jobs=n_jobs, backend="threading", return_as="generator_unordered")
    finished = runner(
        delayed(_fit_one)(number, train, test, texts, labels, algorithm, random_state) for number, train, test in jobs
    )
    for done, (number, fitted, test, results, took) in enumerate(finished, start=1):
        if number is None:
            model = fitted
        else:
            seconds[number] = took
            for i, result in zip(test, results):
                oof[i] = _over_labels(result, all_labels)
            scores[number] = round(
                float(
                    f1_score(
                        [labels[i] for i in test],
                        [r.tag for r in results],
                        labels=all_labels,
                        average="weighted",
                        zero_division=0,
                    )
                ),
                DECIMALS,
            )
        report(int(100 * done / len(jobs)), f"{done} of {len(jobs)} fits done")
    return CrossValidation(
        algorithm=algorithm,
        folds=k,
        fold_f1=scores,
        mean_f1=round(statistics.mean(scores), DECIMALS),
        sd_f1=round(statistics.stdev(scores), DECIMALS) if len(scores) > 1 else 0.0,
        # Every item is in exactly one test fold, so every slot is filled.
        oof=cast(list[PredictionResult], list(oof)),
        fit_seconds=seconds,
        model=model,
    )


def _fit_one(
    number: int | None,
    train: Sequence[int],
    test: Sequence[int],
    texts: Sequence[str],
    labels: Sequence[str],
    algorithm: str,
    random_state: int,
) -> tuple[int | None, Pipeline | None, Sequence[int], list[PredictionResult], float]:
    """One job of :func:`cross_validate`: fit on ``train``, predict ``test`` (a fold, or none for the refit)."""
    started = time.perf_counter()
    model = train_model(
        texts=[texts[i] for i in train],
        labels=[labels[i] for i in train],
        algorithm=algorithm,
        random_state=random_state,
    )
    took = time.perf_counter() - started
    if number is None:
        return number, model, test, [], took
    # A fold's model is dropped once it has predicted its test items.
    return number, None, test, predict(model, [texts[i] for i in test]), took


def adapted_folds(counts: Counter[str], folds: int) -> int:
    """``folds`` lowered to the rarest class's count, at least 2, at most the number of items."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    total = sum(counts.values())
    if total < 2:
        raise ValueError("cross-validation needs at least 2 items")
    return max(2, min(folds, min(counts.values()), total))


# Fewer fair items than this and the operating point is taken on every item:
# at 95% precision, 100 items put the threshold within a few points.
MIN_FAIR_SAMPLE = 100


def choose_review_threshold(
    cv_result: CrossValidation,
    labels: Sequence[str],
    target_precision: float = DEFAULT_TARGET_PRECISION,
    fair: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """The per-model auto-accept threshold, from the out-of-fold operating point.

    ``labels`` are the true tags in the order the CV was given.  Returns the
    :func:`ml.operating_point.operating_point` dict: accept a prediction
    automatically when its confidence >= ``threshold``; a None threshold
    means the target is out of reach and every prediction goes to review.
    The OOF predictions come from models trained on ~(k-1)/k of the data,
    so the threshold is slightly conservative for the model refit on all of it.

    ``fair`` marks the items whose label was asked for whatever a model's
    confidence (imported labels, audit samples).  Labels given *because* a
    model was unsure over-represent hard items, so a threshold chosen on all
    of them is stricter than the target needs and sends too much to people.
    With at least ``MIN_FAIR_SAMPLE`` fair items the point is chosen on those
    alone (the models are still trained on everything).  The dict adds
    ``sample`` ("fair" or "all") and ``sample_size``.
    """
    if len(labels) != len(cv_result.oof):
        raise ValueError(f"got {len(labels)} labels for {len(cv_result.oof)} out-of-fold predictions")
    if fair is not None and len(fair) != len(labels):
        raise ValueError(f"got {len(fair)} fair-sample flags for {len(labels)} labels")
    chosen = [k for k, flag in enumerate(fair or []) if flag]
    if len(chosen) >= MIN_FAIR_SAMPLE:
        point = operating_point([cv_result.oof[k] for k in chosen], [labels[k] for k in chosen], target_precision)
        return {**point, "sample": "fair", "sample_size": len(chosen)}
    point = operating_point(cv_result.oof, list(labels), target_precision)
    return {**point, "sample": "all", "sample_size": len(labels)}


def _over_labels(result: PredictionResult, labels: list[str]) -> PredictionResult:
    # A fold's model may lack a very rare label; give every result the same keys.
    if all(label in result.probabilities for label in labels):
        return result
    probabilities = {label: result.probabilities.get(label, 0.0) for label in labels}
    return PredictionResult(tag=result.tag, probabilities=probabilities, confidence=result.confidence)


def _ignore_progress(percent: int, stage: str) -> None:
    """Default progress callback: silent."""
