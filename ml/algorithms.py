"""The catalogue of trainable algorithms.

Each entry maps a name to a factory ``factory(random_state) -> Pipeline``
returning an *unfitted* pipeline whose input is a list of texts already
passed through :func:`ml.text.prepare_text`.  Factories (not instances) are
stored so every training run starts from fresh, independent estimators.
"""

from collections.abc import Callable

from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

# The names live in ml.catalogue, for code that must not import scikit-learn; re-exported here.
from ml.catalogue import BASELINES as BASELINES
from ml.catalogue import DEFAULT_ALGORITHM as DEFAULT_ALGORITHM
from ml.catalogue import NEEDS_EMBEDDINGS as NEEDS_EMBEDDINGS
from ml.catalogue import NEEDS_MINILM as NEEDS_MINILM

# ml.embeddings imports torch only when it first encodes, so this catalogue
# (and the base install) works without the optional embedding packages.
from ml.embeddings import SENTENCE_TRANSFORMERS, MiniLMEmbedder, SentenceEmbedder
from ml.features import CompactTfidfVectorizer, SequentialFeatureUnion
from ml.minilm_backends import TextEncoder, encoder_for, training_precision
from ml.rules import KeywordClassifier
from ml.static_embedding import StaticEmbedder

AlgorithmFactory = Callable[[int], Pipeline]

# Upper bound on calibration folds; ml.training lowers it for rare classes.
CALIBRATION_FOLDS = 5
# From this many training items the calibration uses CALIBRATION_FOLDS_LARGE
# folds (ml.training.adapt_calibration).  With ensemble=False the folds only
# produce the out-of-fold scores the sigmoid is fitted on; the classifier that
# ships is refit on all the data either way.  3 folds instead of 5 cut the
# LinearSVC fits of a calibrated fit from 6 to 4 (the fit of a retrain on 8,000
# items -31%), and on the 764-item dataset, where calibration models see least
# data, 3 folds were as good as 5 (5-fold CV, seeds 0-2: embeddings-linear F1
# 0.932 vs 0.932, automation at 95% precision 0.965 vs 0.963, log loss 0.245 vs
# 0.244; tfidf-linear 0.899 vs 0.900, 0.880 vs 0.887, 0.335 vs 0.333).  From
# 3,000 items each of the 3 folds still holds out 1,000 or more.
LARGE_TRAINING_SET = 3_000
CALIBRATION_FOLDS_LARGE = 3


def tfidf_linear(random_state: int = 0) -> Pipeline:
    """Word 1-2 gram + char_wb 2-5 gram TF-IDF -> LinearSVC with sigmoid calibration.

    Chosen by stratified 5-fold CV on the Made With ML dataset (see
    ``python -m benchmarks.bench_model``): LinearSVC beat LogisticRegression by ~0.01
    weighted F1 and fits ~4x faster; C, n-gram ranges and min_df were flat
    within noise, so the defaults that stay robust on tiny data were kept
    (min_df=1 never empties the vocabulary).  Char n-grams add robustness to
    spelling variants and compound names ("yolov5", "pytorch-lightning").
    """
    # A FeatureUnion that skips joblib dispatch when transforming: see ml.features.
    features = SequentialFeatureUnion(_tfidf_features())
    # LinearSVC has no probabilities; sigmoid (Platt) calibration on
    # out-of-fold scores gives them.  ensemble=False keeps one SVC refit on
    # all the data: same F1, slightly better log loss, 5x smaller artifact.
    return Pipeline([("features", features), ("classifier", _calibrated_svc(random_state))])


def embeddings_linear(random_state: int = 0) -> Pipeline:
    """all-MiniLM-L6-v2 sentence embedding + the TF-IDF features -> calibrated LinearSVC.

    Chosen by stratified 5-fold CV on the Made With ML dataset (seed 0):
    embedding alone with LogisticRegression reached ~0.92 weighted F1 (best
    C=10), TF-IDF alone ~0.90, the concatenation ~0.93.  The embedding
    brings paraphrase-level meaning ("picture" ~ "image"), TF-IDF the exact
    rare terms (library and model names) the small encoder blurs.  Giving
    the embedding block more weight than the (unit-norm) TF-IDF blocks did
    not help (x1.5-x3: 0.92-0.93), so the blocks are weighted equally.
    The encoder itself is not part of the fitted state: see
    :class:`ml.embeddings.SentenceEmbedder`.
    """
    features = SequentialFeatureUnion([("embedding", SentenceEmbedder()), *_tfidf_features()])
    return Pipeline([("features", features), ("classifier", _calibrated_svc(random_state))])


def minilm_linear(random_state: int = 0) -> Pipeline:
    """embeddings-linear's model with the encoder in numpy (:mod:`ml.minilm`): no torch.

    all-MiniLM-L6-v2 sentence embedding + word and character TF-IDF -> calibrated
    LinearSVC, the blocks weighted equally.  The default: it held up best on content
    newer than its training data (``make bench-encoder``, "## Encoders" in
    docs/benchmarks.md).  Variants were compared by 5-fold CV on the whole dataset,
    never on the newest slice: weighting the embedding x2 (CV 0.926 vs 0.933), a plain
    LogisticRegression instead of the calibrated SVC (C=10-100, x2: 0.922-0.925), the
    embedding alone (0.919), and a static embedding distilled from the same encoder
    (model2vec's method) with the TF-IDF features (0.891-0.900) all did worse; that static embedding,
    redone with this classifier, is :func:`static_linear` (CV 0.916-0.920, an option).
    """
    features = SequentialFeatureUnion([("embedding", MiniLMEmbedder()), *_tfidf_features()])
    return Pipeline([("features", features), ("classifier", _calibrated_svc(random_state))])


def static_linear(random_state: int = 0) -> Pipeline:
    """minilm-linear's model with a static embedding distilled from the same encoder (:mod:`ml.static_embedding`).

    The MiniLM runs once per word piece of its vocabulary, at the first fit of a machine; a text's
    vector is then a sum of table rows, so predicting costs tokenising and the TF-IDF features, not
    the network.  Its table's size and weighting were chosen by 5-fold CV on the whole dataset (see
    that module); the classifier and the equal weighting of the blocks are minilm-linear's (the
    static block x1.5: CV 0.919, x2 0.908, x0.75 0.917, against 0.920 at x1).
    """
    features = SequentialFeatureUnion([("static", StaticEmbedder()), *_tfidf_features()])
    return Pipeline([("features", features), ("classifier", _calibrated_svc(random_state))])


def _tfidf_features() -> list[tuple[str, CompactTfidfVectorizer]]:
    # Compact: TfidfVectorizer saved with its vocabulary as one array (see ml.features).
    return [
        ("word", CompactTfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
        ("char", CompactTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)),
    ]


def _calibrated_svc(random_state: int) -> CalibratedClassifierCV:
    return CalibratedClassifierCV(
        LinearSVC(C=1.0, random_state=random_state),
        method="sigmoid",
        cv=CALIBRATION_FOLDS,
        ensemble=False,
    )


def rules(random_state: int = 0) -> Pipeline:
    """The hand-written keyword baseline (random_state unused: it is deterministic)."""
    return Pipeline([("classifier", KeywordClassifier())])


def majority(random_state: int = 0) -> Pipeline:
    """Always predicts the most frequent training tag; the floor any model must clear."""
    # The identity FunctionTransformer only makes the pipeline accept raw strings
    # the same way the others do; DummyClassifier ignores the features anyway.
    return Pipeline(
        [
            ("passthrough", FunctionTransformer()),
            ("classifier", DummyClassifier(strategy="most_frequent", random_state=random_state)),
        ]
    )


def random_guess(random_state: int = 0) -> Pipeline:
    """Guesses a tag at random in proportion to the training tags (seeded).

    The chance level: a model that does not clearly beat it has learnt nothing.
    """
    return Pipeline(
        [
            ("passthrough", FunctionTransformer()),
            ("classifier", DummyClassifier(strategy="stratified", random_state=random_state)),
        ]
    )


# ml.catalogue.ALGORITHM_NAMES lists the same names (tests/ml/test_ml_catalogue.py).
ALGORITHMS: dict[str, AlgorithmFactory] = {
    "minilm-linear": minilm_linear,
    "tfidf-linear": tfidf_linear,
    "embeddings-linear": embeddings_linear,
    "static-linear": static_linear,
    "rules": rules,
    "majority": majority,
    "random": random_guess,
}


def embedding_encoder(name: str) -> TextEncoder | None:
    """The encoder ``name``'s embedding step will use if fitted now, for encoding texts ahead of the fit.

    None for an algorithm without an embedding step.  Its identity is what the vectors are
    stored under (int8 and fp32 MiniLM vectors apart: see ml.minilm_backends).
    """
    if name in NEEDS_MINILM:
        return encoder_for(training_precision())
    if name in NEEDS_EMBEDDINGS:
        return SENTENCE_TRANSFORMERS
    return None


def get_algorithm(name: str) -> AlgorithmFactory:
    """Look up a factory by name, with an error that lists the valid names."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        choices = ", ".join(sorted(ALGORITHMS))
        raise ValueError(f"unknown algorithm {name!r}; choose one of: {choices}") from None
