"""Cross-validate the algorithm catalogue on a labelled CSV.

Run ``python -m ml.benchmark [--dataset PATH] [--folds 5] [--seed 0]``.
Each fold trains through :func:`ml.training.train_model` and predicts
through :func:`ml.prediction.predict`, so the figures describe the code that
ships, not a hand-assembled replica.  A plain ``TfidfVectorizer() +
LogisticRegression()`` is included as the reference the default must beat.
"""

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from ml.algorithms import ALGORITHMS
from ml.dataset import read_labelled_csv
from ml.prediction import predict
from ml.text import prepare_text
from ml.training import train_model

FitFunction = Callable[[list[str], list[str]], Pipeline]

BASELINE_NAME = "plain-tfidf+logreg"


def cross_validate(texts: Sequence[str], labels: Sequence[str], *, fit: FitFunction,
                   folds: int = 5, random_state: int = 0) -> list[float]:
    """Weighted F1 of each held-out fold of a shuffled stratified k-fold split."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    scores = []
    for train, test in splitter.split(texts, labels):
        model = fit([texts[i] for i in train], [labels[i] for i in train])
        predicted = [result.tag for result in predict(model, [texts[i] for i in test])]
        scores.append(f1_score([labels[i] for i in test], predicted,
                               average="weighted", zero_division=0))
    return scores


def catalogue_fitters(random_state: int) -> dict[str, FitFunction]:
    """One fit function per catalogue algorithm plus the plain baseline."""
    fitters = {name: _catalogue_fit(name, random_state) for name in ALGORITHMS}
    fitters[BASELINE_NAME] = _baseline_fit(random_state)
    return fitters


def _catalogue_fit(name: str, random_state: int) -> FitFunction:
    def fit(texts: list[str], labels: list[str]) -> Pipeline:
        return train_model(texts=texts, labels=labels, algorithm=name,
                           random_state=random_state)
    return fit


def _baseline_fit(random_state: int) -> FitFunction:
    def fit(texts: list[str], labels: list[str]) -> Pipeline:
        baseline = Pipeline([("tfidf", TfidfVectorizer()),
                             ("classifier", LogisticRegression(random_state=random_state))])
        return baseline.fit(texts, labels)
    return fit


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    items = read_labelled_csv(args.dataset)
    texts = [prepare_text(item.title, item.description) for item in items]
    labels = [item.tag for item in items]
    print(f"{len(items)} items, stratified {args.folds}-fold CV, seed {args.seed}")
    for name, fit in catalogue_fitters(args.seed).items():
        started = time.perf_counter()
        scores = cross_validate(texts, labels, fit=fit, folds=args.folds,
                                random_state=args.seed)
        elapsed = time.perf_counter() - started
        print(f"{name:22s} weighted F1 {statistics.mean(scores):.4f} "
              f"± {statistics.stdev(scores):.4f}  ({elapsed:.1f}s)")


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ml.benchmark",
                                     description="Cross-validate the algorithm catalogue.")
    parser.add_argument("--dataset", type=Path, default=Path("data/madewithml_dataset.csv"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
