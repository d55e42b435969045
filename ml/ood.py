"""Per-item checks: does one incoming text look like the content we were trained on?

Four checks run on each prepared text (see :func:`ml.text.prepare_text`):

``garbage``
    Fixed rules: too few letters, mostly symbols or digits, one token
    repeated, long runs of one letter, keyboard mash.  No data needed.
``language``
    Non-English evidence from :mod:`ml.language`; the threshold is the
    higher of a fixed floor and a high quantile of the training scores.
``oov``
    Share of content tokens never seen in training (short texts shrunk
    toward zero, see ``PSEUDO_TOKENS``).
``surprise``
    Mean surprise (-log probability) of the content tokens under a unigram
    model of the training texts.  Unlike the OOV share it also notices
    text made of words that *are* in the vocabulary but rare in ML content
    ("free shipping", "city council").  It replaced a nearest-neighbour
    TF-IDF cosine check: with both thresholds at the 99th percentile of
    held-out dataset items, cosine flagged ~70% of the off-topic samples and
    ~4% of the newest dataset items, surprise ~97% and 0%.

``topic`` (only when off-topic examples are given to :func:`fit_ood_checks`)
    Two pieces of evidence added up, each in standard deviations above the
    typical training text: the surprise above, and a linear "wording" score
    (:mod:`ml.wording`) learnt from training texts against the off-topic
    examples.  The wording score sees every word, stopwords and symbols
    included ("your", "$", "!", "shall"), so it carries style that other
    kinds of off-topic text share; surprise carries the topic.  Each alone
    misses texts the sum catches (a job ad with an ML title; legal text).
    When sentence vectors are given (``encode`` or ``train_vectors``), a
    third piece is added: how far the text's meaning is from its nearest
    training texts (:mod:`ml.semantic`).  It needs no off-topic examples, so
    it holds on kinds nobody wrote examples of: it caught the legal terms, a
    book-club notice and a physics exercise that surprise and wording missed
    (their words are common English, their wording not like ads).
    ``make bench-drift`` measures it leave-one-kind-out: fitted without a
    kind, judged on that kind.

    A short text (a title alone) scores higher than a full item of the same
    content: its few words are rarer on average, and its sentence vector sits
    farther from the training items' (titles with descriptions).  On the
    demo data, minilm-linear's check flagged 3 of 30 plain ML titles
    ("Feature store with Feast on Kubernetes").  So when the training items'
    titles are given (``short_texts``), texts with at most ``short_tokens``
    content tokens are judged against a threshold of their own: the same
    quantile of the out-of-fold scores of the training titles alone (each
    scored against the other folds, as the full texts are), never of a holdout.

The OOV and surprise thresholds are fitted by cross-fitting: every training
text is scored against a vocabulary built from the *other* folds (scoring a
text against a vocabulary that contains it would always give zero), and the
threshold is a high quantile of those out-of-fold scores.  The topic check's
standardisers are fitted on the same out-of-fold scores.

When the texts' time order is known (``oldest_first``), the folds are blocks of
consecutive texts in time (blocked cross-validation), not random draws.  The
checks judge content newer than all their training texts, with none of its
contemporaries among them; a random fold keeps every text's contemporaries in
the other folds (same new names, same new topics), so its scores are those of
content like the training texts, and the thresholds let through less of newer
content than the quantile promises.  A block is scored without its period, as
the stream will be.  Scoring each slice against the *older* texts only (forward
chaining, as :mod:`ml.time_validation` does for trust) was tried and dropped:
its references are smaller (40-80% of the texts), and a smaller vocabulary gives
every unseen word a lower surprise, so it lowered the surprise threshold and
flagged more newer items, not fewer (see docs/benchmarks.md, "## Drift").
"""

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.model_selection import KFold

from ml.language import count_letters, language_evidence
from ml.semantic import NeighbourDistance, out_of_fold_distances
from ml.wording import WordingModel, fit_wording

if TYPE_CHECKING:
    from ml.ood_batch import BatchScreen

FORMAT_VERSION = 1

# Same token pattern as scikit-learn's TfidfVectorizer, so "the vocabulary"
# means what the model's word features mean.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# Five neighbouring keys, either direction ("asdfg", "lkjhg").
_KEYBOARD_RUNS = frozenset(
    run
    for row in _KEYBOARD_ROWS
    for line in (row, row[::-1])
    for run in (line[i : i + 5] for i in range(len(line) - 4))
)
_REPEATED_UNIT = r"^(\w{1,4})\1{2,}$"  # "sdfsdfsdf", "hahaha"
# Six consonants in a row does not occur in English words or ML names
# ("strengths" has five); a long word (6+) with no vowel at all is a mash
# too, but that is already six consonants in a row.  Words are [a-z]+ only.
_CONSONANT_RUN = r"[^aeiouy]{6}"
# A (lowercase a-z) word is keyboard mash or nonsense if it is one short unit
# repeated, contains a keyboard run anywhere, or has six consonants in a row.
_MASH = re.compile("|".join([_REPEATED_UNIT, *sorted(_KEYBOARD_RUNS), _CONSONANT_RUN]))
# Maximal a-z runs of 4+ letters (the same as [a-z]+ matches of length >= 4):
# the words judged for mash.
_MASH_WORD = re.compile(r"[a-z]{4,}")
_SAME_LETTER_RUN = re.compile(r"([^\W\d_])\1{4,}")  # "aaaaa"
# The same on ASCII text, where [^\W\d_] (a word character, not a digit or
# "_") is exactly [A-Za-z]; the plain class is much cheaper to test.
_SAME_ASCII_LETTER_RUN = re.compile(r"([A-Za-z])\1{4,}")

MIN_LETTERS = 5  # "test", "ok"; the shortest dataset item has 24, "SimGNN" alone has 6
GARBAGE_THRESHOLD = 0.5
LANGUAGE_FLOOR = 0.4
OOV_FLOOR = 0.5
DEFAULT_QUANTILE = 0.995
CROSS_FIT_FOLDS = 5
# A text with few content tokens is shrunk toward the typical training text
# as if it had this many more ordinary tokens: a title-only item made of new
# names ("YOLOv5 on Jetson Nano") is thin evidence of being off-topic.  The
# price: title-only spam of a handful of words is not flagged either.
PSEUDO_TOKENS = 4
SMOOTHING = 0.5  # add-k smoothing of the unigram model; unseen words get k
# The topic check adds surprise and wording, each in standard deviations; wording counts half:
# of 0.5, 1 and 2 (chosen leave-one-kind-out on the tuning kinds, see make bench-drift) 0.5
# flagged the most held-out off-topic text at the fewest real items.
WORDING_WEIGHT = 0.5
# The meaning distance counts as much as the surprise: one standard deviation is one standard
# deviation.  0.5 and 2 were looked at too, leave-one-kind-out on the tuning kinds only: the same
# held-out figures within one item; make bench-drift prints them beside it.
SEMANTIC_WEIGHT = 1.0
MIN_TOPIC_TRAINING = 200  # distinct training texts below which the topic check is left out
# (fitted on, scored) positions of the training texts; together the scored parts hold every text once.
Splits = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class CheckResult:
    """One check on one text: flagged when ``score`` is above ``threshold``."""

    name: str
    score: float
    threshold: float
    flagged: bool
    reason: str


@dataclass(frozen=True)
class ItemCheck:
    """All checks on one text; ``flagged`` if any check flagged it."""

    checks: dict[str, CheckResult]

    @property
    def flagged(self) -> bool:
        return any(check.flagged for check in self.checks.values())

    @property
    def reasons(self) -> list[str]:
        return [check.reason for check in self.checks.values() if check.flagged]

    def to_dict(self) -> dict[str, Any]:
        return {
            "flagged": self.flagged,
            "reasons": self.reasons,
            "checks": {name: vars(check).copy() for name, check in self.checks.items()},
        }


@dataclass(frozen=True)
class UnigramModel:
    """Counts of content tokens in the training texts."""

    counts: dict[str, int]

    @classmethod
    def fit(cls, texts: list[str]) -> "UnigramModel":
        return cls(dict(Counter(token for text in texts for token in content_tokens(text))))

    # The cached properties assume ``counts`` is never changed after
    # construction (the dataclass is frozen; cached_property writes into the
    # instance __dict__ directly, which a frozen dataclass allows).
    @cached_property
    def total(self) -> int:
        return sum(self.counts.values())

    @cached_property
    def surprise_table(self) -> tuple[dict[str, float], float]:
        """:meth:`surprises` of every seen token, and of any unseen one, computed once."""
        denominator = self.total + SMOOTHING * (len(self.counts) + 1)
        seen = {t: -math.log((count + SMOOTHING) / denominator) for t, count in self.counts.items()}
        return seen, -math.log((0 + SMOOTHING) / denominator)

    def surprises(self, tokens: list[str]) -> list[float]:
        """-log P(token), add-k smoothed with one extra slot for every unseen word."""
        seen, unseen = self.surprise_table
        return [seen.get(t, unseen) for t in tokens]


@dataclass(frozen=True)
class VocabularyScores:
    """OOV share and mean surprise of one text, both shrunk toward typical values."""

    tokens: int
    unseen: int
    oov_share: float
    surprise: float


@dataclass(frozen=True)
class Standardiser:
    """Turns a score into standard deviations above the typical training text."""

    center: float
    scale: float

    @classmethod
    def fit(cls, values: list[float]) -> "Standardiser":
        return cls(center=float(np.median(values)), scale=float(np.std(values)) or 1.0)

    def __call__(self, value: float) -> float:
        return (value - self.center) / self.scale


@dataclass(frozen=True)
class TopicCheck:
    """Surprise plus wording, standardised on out-of-fold training texts; see the module docstring."""

    wording: WordingModel
    surprise_scale: Standardiser
    wording_scale: Standardiser
    threshold: float
    wording_weight: float = WORDING_WEIGHT
    semantic: NeighbourDistance | None = None
    semantic_scale: Standardiser | None = None
    semantic_weight: float = SEMANTIC_WEIGHT
    # Texts with at most ``short_tokens`` content tokens are judged against ``short_threshold``
    # (module docstring); None: every text against ``threshold``, as checks fitted before it were.
    short_threshold: float | None = None
    short_tokens: int = 0

    def threshold_for(self, tokens: int) -> float:
        """The threshold a text with ``tokens`` content tokens is judged against."""
        if self.short_threshold is not None and tokens <= self.short_tokens:
            return self.short_threshold
        return self.threshold

    def evaluate(
        self, text: str, surprise: float, semantic_distance: float | None = None, *, tokens: int
    ) -> CheckResult:
        """``semantic_distance``: from :attr:`semantic`; None when the text could not be encoded (counts 0 sd).

        ``tokens``: how many content tokens the text has (``VocabularyScores.tokens``).
        """
        surprise_sd, wording_sd, meaning_sd, score = self._parts(text, surprise, semantic_distance)
        threshold = self.threshold_for(tokens)
        terms = ", ".join(f"'{t}'" for t in self.wording.top_terms(text))
        reason = (
            f"unlike the training content (score {score:.2f} > {threshold:.2f}"
            + (", the threshold of texts as short as a title" if threshold != self.threshold else "")
            + f"): words {surprise_sd:+.1f} sd from typical, wording {wording_sd:+.1f} sd toward off-topic text"
            + (f" ({terms})" if terms else "")
            + self._meaning_reason(meaning_sd, semantic_distance)
        )
        return _result("topic", score, threshold, score > threshold, reason)

    def flags(self, text: str, surprise: float, semantic_distance: float | None = None, *, tokens: int) -> bool:
        """Whether :meth:`evaluate` would flag the text, without writing its reason."""
        return self._parts(text, surprise, semantic_distance)[3] > self.threshold_for(tokens)

    def _parts(self, text: str, surprise: float, semantic_distance: float | None) -> tuple[float, float, float, float]:
        """(surprise, wording and meaning in sd, and their weighted sum: the score)."""
        surprise_sd = self.surprise_scale(surprise)
        wording_sd = self.wording_scale(self.wording.score(text))
        meaning_sd = 0.0
        if self.semantic_scale is not None and semantic_distance is not None:
            meaning_sd = self.semantic_scale(semantic_distance)
        score = surprise_sd + self.wording_weight * wording_sd + self.semantic_weight * meaning_sd
        return surprise_sd, wording_sd, meaning_sd, score

    def _meaning_reason(self, meaning_sd: float, distance: float | None) -> str:
        if self.semantic is None:
            return ""
        if distance is None:
            return ", meaning not measured (no sentence encoder)"
        return f", meaning {meaning_sd:+.1f} sd farther from the nearest training items than typical"

    def to_dict(self) -> dict[str, Any]:
        data = {
            "wording": self.wording.to_dict(),
            "surprise_scale": vars(self.surprise_scale).copy(),
            "wording_scale": vars(self.wording_scale).copy(),
            "threshold": self.threshold,
            "wording_weight": self.wording_weight,
        }
        if self.semantic is not None and self.semantic_scale is not None:
            data |= {
                "semantic": self.semantic.to_dict(),
                "semantic_scale": vars(self.semantic_scale).copy(),
                "semantic_weight": self.semantic_weight,
            }
        if self.short_threshold is not None:
            data |= {"short_threshold": self.short_threshold, "short_tokens": self.short_tokens}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TopicCheck":
        semantic = data.get("semantic")  # checks fitted without sentence vectors have none
        return cls(
            wording=WordingModel.from_dict(data["wording"]),
            surprise_scale=_standardiser(data["surprise_scale"]),
            wording_scale=_standardiser(data["wording_scale"]),
            threshold=float(data["threshold"]),
            wording_weight=float(data["wording_weight"]),
            semantic=NeighbourDistance.from_dict(semantic) if semantic else None,
            semantic_scale=_standardiser(data["semantic_scale"]) if semantic else None,
            semantic_weight=float(data.get("semantic_weight", SEMANTIC_WEIGHT)),
            # Checks fitted before short texts had a threshold of their own have none.
            short_threshold=float(data["short_threshold"]) if "short_threshold" in data else None,
            short_tokens=int(data.get("short_tokens", 0)),
        )


def _standardiser(data: dict[str, Any]) -> Standardiser:
    return Standardiser(**{k: float(v) for k, v in data.items()})


@dataclass
class OODChecks:
    """Fitted per-item checks; build with :func:`fit_ood_checks`."""

    unigram: UnigramModel
    thresholds: dict[str, float]
    typical_surprise: float  # median per-token surprise in training, for shrinkage
    quantile: float = DEFAULT_QUANTILE
    training_size: int = 0
    topic: TopicCheck | None = None
    # The batch form of the checks, made on first use (its tables are a cache, not part of the checks).
    _screen: "BatchScreen | None" = field(default=None, init=False, repr=False, compare=False)

    def check(self, texts: list[str], vectors: "np.ndarray | None" = None) -> list[ItemCheck]:
        """One :class:`ItemCheck` per prepared text, in input order.

        ``vectors``: the texts' sentence embeddings, when the caller has them; checks with a
        meaning part encode the texts themselves otherwise (:func:`default_encode`).
        """
        distances = self._semantic_distances(texts, vectors)
        return [self._check_one(text, distance) for text, distance in zip(texts, distances)]

    def _semantic_distances(self, texts: list[str], vectors: "np.ndarray | None") -> list[float | None]:
        semantic = self.topic.semantic if self.topic is not None else None
        if semantic is None or not texts:
            return [None] * len(texts)
        if vectors is None:
            vectors = default_encode(texts, precision=semantic.precision)
        if vectors is None:
            return [None] * len(texts)
        return [float(d) for d in semantic.distances(vectors)]

    def flagged_reasons(self, texts: list[str], vectors: "np.ndarray | None" = None) -> list[dict[str, str]]:
        """{check name: reason} of the checks that flag each text (empty when all pass), in input order.

        The same verdicts and reasons as :meth:`check` (``vectors`` as there), several times
        faster on a batch where most texts pass: a text's reasons are written only when some
        check flags it (writing them, with the result objects, was over half of :meth:`check`), and
        which texts some check flags is decided for the whole batch at once (:mod:`ml.ood_batch`,
        which leaves what it cannot decide exactly to :meth:`_any_flag`, one text at a time).
        """
        distances = self._semantic_distances(texts, vectors)
        flags = self._batch_screen().flags(texts, distances, self.thresholds, self._any_flag)
        return [self._reasons(text, distance) if flag else {} for text, distance, flag in zip(texts, distances, flags)]

    def _batch_screen(self) -> "BatchScreen":
        """The batch form of :meth:`_any_flag` (ml.ood_batch), built once for these models."""
        screen = self._screen
        if (
            screen is None
            or screen.unigram is not self.unigram
            or screen.topic is not self.topic
            or screen.typical_surprise != self.typical_surprise
        ):
            from ml.ood_batch import BatchScreen  # imported here: ml.ood_batch builds on this module

            screen = self._screen = BatchScreen(self.unigram, self.typical_surprise, self.topic)
        return screen

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles leave the batch screen out: it is a cache, and holds a lock."""
        return {**self.__dict__, "_screen": None}

    def _reasons(self, text: str, semantic_distance: float | None) -> dict[str, str]:
        checks = self._check_one(text, semantic_distance).checks
        return {name: check.reason for name, check in checks.items() if check.flagged}

    def _any_flag(self, text: str, semantic_distance: float | None) -> bool:
        """Whether :meth:`_check_one` would flag the text: the same comparisons, on the same scores."""
        if garbage_check(text).flagged or language_evidence(text).score > self.thresholds["language"]:
            return True
        scores = self.scores(text)
        if scores.oov_share > self.thresholds["oov"] or scores.surprise > self.thresholds["surprise"]:
            return True
        return self.topic is not None and self.topic.flags(
            text, scores.surprise, semantic_distance, tokens=scores.tokens
        )

    def scores(self, text: str) -> VocabularyScores:
        return vocabulary_scores(text, self.unigram, self.typical_surprise)

    def _check_one(self, text: str, semantic_distance: float | None) -> ItemCheck:
        scores = self.scores(text)  # once: the vocabulary checks and the topic check share it
        checks = [garbage_check(text), self._language(text), *self._vocabulary(scores)]
        if self.topic is not None:
            checks.append(self.topic.evaluate(text, scores.surprise, semantic_distance, tokens=scores.tokens))
        return ItemCheck({check.name: check for check in checks})

    def _language(self, text: str) -> CheckResult:
        evidence = language_evidence(text)
        threshold = self.thresholds["language"]
        flagged = evidence.score > threshold
        if evidence.non_latin_share >= 0.5:
            reason = f"mostly non-Latin script ({evidence.non_latin_share:.0%} of letters)"
        elif evidence.foreign_words:
            reason = (
                f"looks {evidence.foreign_language}: {evidence.foreign_words} "
                f"{evidence.foreign_language} function words vs "
                f"{evidence.english_words} English"
            )
        else:
            reason = f"non-English evidence {evidence.score:.2f}"
        return _result("language", evidence.score, threshold, flagged, reason)

    def _vocabulary(self, scores: VocabularyScores) -> list[CheckResult]:
        oov_limit, surprise_limit = self.thresholds["oov"], self.thresholds["surprise"]
        oov_reason = (
            f"{scores.unseen} of {scores.tokens} content words never seen in "
            f"training (share {scores.oov_share:.2f} > {oov_limit:.2f})"
        )
        surprise_reason = f"words unusual for training content (surprise {scores.surprise:.2f} > {surprise_limit:.2f})"
        return [
            _result("oov", scores.oov_share, oov_limit, scores.oov_share > oov_limit, oov_reason),
            _result("surprise", scores.surprise, surprise_limit, scores.surprise > surprise_limit, surprise_reason),
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict; :meth:`from_dict` restores an equal object."""
        data = {
            "version": FORMAT_VERSION,
            "quantile": self.quantile,
            "training_size": self.training_size,
            "thresholds": dict(self.thresholds),
            "typical_surprise": self.typical_surprise,
            "vocabulary": dict(sorted(self.unigram.counts.items())),
        }
        if self.topic is not None:  # versions trained without off-topic examples have none
            data["topic"] = self.topic.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OODChecks":
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported OOD checks format version {data.get('version')!r}")
        return cls(
            unigram=UnigramModel({str(k): int(v) for k, v in data["vocabulary"].items()}),
            thresholds={k: float(v) for k, v in data["thresholds"].items()},
            typical_surprise=float(data["typical_surprise"]),
            quantile=float(data["quantile"]),
            training_size=int(data["training_size"]),
            topic=TopicCheck.from_dict(data["topic"]) if data.get("topic") else None,
        )


def fit_ood_checks(
    train_texts: list[str],
    *,
    offtopic_texts: list[str] | None = None,
    quantile: float = DEFAULT_QUANTILE,
    random_state: int = 0,
    train_vectors: "np.ndarray | None" = None,
    encode: Callable[[Sequence[str]], "np.ndarray | None"] | None = None,
    semantic_weight: float = SEMANTIC_WEIGHT,
    vectors_precision: str | None = None,
    oldest_first: Sequence[int] | None = None,
    short_texts: Sequence[str] | None = None,
) -> OODChecks:
    """Fit every check's threshold on prepared training texts.

    ``offtopic_texts`` (prepared examples of text that does not belong, e.g. the tuning slice of
    ``data/offtopic_samples.jsonl``) add the ``topic`` check; without them, or with fewer than
    ``MIN_TOPIC_TRAINING`` distinct training texts, it is left out.  ``train_vectors`` (one
    sentence embedding per training text) or ``encode`` (to compute them) add the meaning part
    to the topic check; the checks then encode what they check (see :meth:`OODChecks.check`) the
    way those vectors were made: ``vectors_precision`` ("fp32" or "int8"; None: what
    :func:`default_encode` makes with the configured backend).

    ``quantile`` is the share of (out-of-fold) training texts each fitted
    check lets through; the default 0.995 makes each fitted check flag about
    0.5% of texts like the training ones (0.99 flagged ~1.6% of held-out
    dataset items in total, above the 2% budget on some splits).  Needs at
    least two texts with words.

    ``oldest_first``: the positions of ``train_texts`` from oldest to newest (every one once).
    Given, the thresholds and the topic check's standardisers are fitted on folds that are
    blocks of consecutive texts in time (see the module docstring); None (time unknown): on
    random folds.

    ``short_texts``: the training items as short texts (each one's prepared title alone, in the order
    of ``train_texts``). Given, the topic check judges texts as short as a title against a threshold
    fitted on them (the module docstring); with the meaning part, only when ``encode`` can encode them.
    """
    keep = [i for i, t in enumerate(train_texts) if content_tokens(t)]
    texts = [train_texts[i] for i in keep]
    if len(texts) < 2:
        raise ValueError("need at least two training texts with words to fit OOD checks")
    unigram = UnigramModel.fit(texts)
    typical = _typical_surprise(unigram, texts)
    splits = _calibration_splits(len(texts), _kept_order(oldest_first, keep), random_state)
    oov, surprise = _cross_fitted_scores(texts, splits)
    language = [language_evidence(t).score for t in texts]
    thresholds = {
        "garbage": GARBAGE_THRESHOLD,
        "language": max(LANGUAGE_FLOOR, _quantile(language, quantile)),
        "oov": max(OOV_FLOOR, _quantile(oov, quantile)),
        "surprise": _quantile(surprise, quantile),
    }
    # The topic check standardises scores by their spread over the training texts: a handful of
    # (near-)duplicate texts has almost none, and every new text would then look far off.
    enough = len(set(texts)) >= MIN_TOPIC_TRAINING
    topic = None
    if offtopic_texts and enough:
        vectors = _training_vectors(texts, keep, train_vectors, encode)
        precision = vectors_precision or _configured_precision()
        topic = _fit_topic(texts, surprise, offtopic_texts, quantile, splits, vectors, semantic_weight, precision)
        if short_texts is not None:
            shorts = [short_texts[i] for i in keep]
            short_vectors = encode(shorts) if encode is not None and vectors is not None else None
            topic = _with_short_threshold(
                topic, texts, shorts, offtopic_texts, quantile, splits, vectors, short_vectors
            )
    return OODChecks(
        unigram=unigram,
        thresholds=thresholds,
        typical_surprise=typical,
        quantile=quantile,
        training_size=len(texts),
        topic=topic,
    )


def _kept_order(oldest_first: Sequence[int] | None, keep: list[int]) -> list[int] | None:
    """``oldest_first`` as positions among the kept texts (the ones with words), or None."""
    if oldest_first is None:
        return None
    position = {original: k for k, original in enumerate(keep)}
    return [position[i] for i in oldest_first if i in position]


def _calibration_splits(count: int, oldest_first: list[int] | None, random_state: int) -> Splits:
    """Blocks of consecutive texts in time when the order is known, else random folds (module docstring)."""
    if oldest_first is not None:
        order = np.asarray(oldest_first, dtype=int)
        blocks = KFold(n_splits=min(CROSS_FIT_FOLDS, count)).split(order)  # unshuffled: contiguous in time
        return [(order[fit], order[score]) for fit, score in blocks]
    folds = KFold(n_splits=min(CROSS_FIT_FOLDS, count), shuffle=True, random_state=random_state)
    return list(folds.split(np.arange(count)))


def _training_vectors(
    texts: list[str],
    keep: list[int],
    train_vectors: "np.ndarray | None",
    encode: Callable[[Sequence[str]], "np.ndarray | None"] | None,
) -> "np.ndarray | None":
    """The kept training texts' sentence vectors: given, encoded, or None (no meaning part)."""
    if train_vectors is not None:
        return np.asarray(train_vectors)[keep]
    vectors = encode(texts) if encode is not None else None
    return None if vectors is None else np.asarray(vectors)


def _fit_topic(
    texts: list[str],
    oof_surprise: list[float],
    offtopic: list[str],
    quantile: float,
    splits: Splits,
    vectors: "np.ndarray | None",
    semantic_weight: float,
    precision: str,
) -> TopicCheck:
    """Standardise out-of-fold surprise, wording (and meaning) of the training texts; threshold at ``quantile``."""
    oof_wording = np.zeros(len(texts))
    for fit_part, score_part in splits:
        wording = fit_wording([texts[i] for i in fit_part], offtopic)
        oof_wording[score_part] = [wording.score(texts[i]) for i in score_part]
    surprise_scale, wording_scale = Standardiser.fit(oof_surprise), Standardiser.fit(list(oof_wording))
    combined = np.array([surprise_scale(s) for s in oof_surprise]) + WORDING_WEIGHT * np.array(
        [wording_scale(w) for w in oof_wording]
    )
    semantic, semantic_scale = None, None
    if vectors is not None:  # out of fold: a training text must not be its own nearest neighbour
        oof_meaning = out_of_fold_distances(vectors, splits=splits)
        semantic, semantic_scale = (
            NeighbourDistance.fit(vectors, precision=precision),
            Standardiser.fit(list(oof_meaning)),
        )
        combined += semantic_weight * np.array([semantic_scale(m) for m in oof_meaning])
    return TopicCheck(
        wording=fit_wording(texts, offtopic),
        surprise_scale=surprise_scale,
        wording_scale=wording_scale,
        threshold=_quantile(list(combined), quantile),
        semantic=semantic,
        semantic_scale=semantic_scale,
        semantic_weight=semantic_weight,
    )


def _with_short_threshold(
    topic: TopicCheck,
    texts: list[str],
    short_texts: list[str],
    offtopic: list[str],
    quantile: float,
    splits: Splits,
    vectors: "np.ndarray | None",
    short_vectors: "np.ndarray | None",
) -> TopicCheck:
    """``topic`` with a threshold for short texts: the quantile of the training titles' out-of-fold scores.

    Each title is scored as the full texts were (``_fit_topic``): vocabulary, wording and meaning
    against the other folds only, standardised by the full texts' scales.  Short means at most as many
    content tokens as nine training titles in ten.  Without the titles' vectors where the check has a
    meaning part, or with too few titles with words, ``topic`` is returned as it is.
    """
    if topic.semantic_scale is not None and (vectors is None or short_vectors is None):
        return topic
    scores: list[float] = []
    for fit_part, score_part in splits:
        reference = [texts[i] for i in fit_part]
        unigram, wording = UnigramModel.fit(reference), fit_wording(reference, offtopic)
        typical = _typical_surprise(unigram, reference)
        distances: list[float | None] = [None] * len(score_part)
        if topic.semantic_scale is not None and vectors is not None and short_vectors is not None:
            distances = list(NeighbourDistance.fit(vectors[fit_part]).distances(short_vectors[score_part]))
        for i, distance in zip(score_part, distances):
            if content_tokens(short_texts[i]):
                surprise = vocabulary_scores(short_texts[i], unigram, typical).surprise
                scores.append(_topic_score(topic, surprise, wording.score(short_texts[i]), distance))
    if len(scores) < MIN_TOPIC_TRAINING:
        return topic
    lengths = [len(content_tokens(text)) for text in short_texts if content_tokens(text)]
    return replace(
        topic,
        short_threshold=_quantile(scores, quantile),
        short_tokens=int(np.percentile(lengths, 90)),
    )


def _topic_score(topic: TopicCheck, surprise: float, wording: float, distance: float | None) -> float:
    """The topic score from its parts, as ``TopicCheck._parts`` adds them."""
    meaning = 0.0
    if topic.semantic_scale is not None and distance is not None:
        meaning = topic.semantic_scale(distance)
    return (
        topic.surprise_scale(surprise)
        + topic.wording_weight * topic.wording_scale(wording)
        + topic.semantic_weight * meaning
    )


def _configured_precision() -> str:
    try:
        from ml.minilm_backends import training_precision

        return training_precision()
    except ImportError:  # no encoder installed: the vectors were given, and fp32 is all there is
        return "fp32"


def default_encode(texts: Sequence[str], precision: str | None = None) -> "np.ndarray | None":
    """MiniLM vectors of prepared texts through the shared encode interface (cached); None if not installed.

    ``precision`` is the kind of vectors ("fp32" or "int8"); None: the kind the configured backend makes
    (TAGLOOP_MINILM_BACKEND), the one a minilm-linear model predicting the same texts has cached already.
    """
    from ml.embeddings import cached_encode
    from ml.minilm_backends import encoder_for, training_precision

    try:
        return cached_encode(list(texts), encoder=encoder_for(precision or training_precision()))
    except ImportError:  # MiniLMUnavailable: the topic check then goes without its meaning part
        return None


def _cross_fitted_scores(texts: list[str], splits: Splits) -> tuple[list[float], list[float]]:
    """Out-of-fold OOV shares and surprises of every training text (``splits`` score each once)."""
    oov, surprise = [0.0] * len(texts), [0.0] * len(texts)
    for fit_part, score_part in splits:
        unigram = UnigramModel.fit([texts[i] for i in fit_part])
        typical = _typical_surprise(unigram, [texts[i] for i in fit_part])
        for i in score_part:
            scores = vocabulary_scores(texts[i], unigram, typical)
            oov[i], surprise[i] = scores.oov_share, scores.surprise
    return oov, surprise


def _typical_surprise(unigram: UnigramModel, texts: list[str]) -> float:
    tokens = [token for text in texts for token in content_tokens(text)]
    return float(np.median(unigram.surprises(tokens)))


def _quantile(values: list[float], q: float) -> float:
    return float(np.quantile(np.asarray(values, dtype=float), q))


def content_tokens(text: str) -> list[str]:
    """Word tokens minus English stopwords and numbers: the words that carry the topic."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in ENGLISH_STOP_WORDS and not t.isdigit()]


def vocabulary_scores(text: str, unigram: UnigramModel, typical_surprise: float) -> VocabularyScores:
    tokens = content_tokens(text)
    unseen = sum(1 for t in tokens if t not in unigram.counts)
    shrunk = len(tokens) + PSEUDO_TOKENS
    surprise = (sum(unigram.surprises(tokens)) + PSEUDO_TOKENS * typical_surprise) / shrunk
    return VocabularyScores(tokens=len(tokens), unseen=unseen, oov_share=unseen / shrunk, surprise=surprise)


def garbage_check(text: str) -> CheckResult:
    """Fixed rules for text that is not language at all; score 1 = certainly garbage."""
    letters = count_letters(text)
    if letters < MIN_LETTERS:
        return _result("garbage", 1.0, GARBAGE_THRESHOLD, True, f"empty or almost no text ({letters} letters)")
    rules = {
        "mostly symbols or digits": _symbol_share(text, letters),
        "one word repeated": _repeated_token_share(text),
        "keyboard mash or nonsense words": _mash_share(text),
        "long run of one letter": 1.0 if _has_same_letter_run(text) else 0.0,
    }
    rule, score = max(rules.items(), key=lambda item: item[1])
    flagged = score >= GARBAGE_THRESHOLD
    return _result(
        "garbage", score, GARBAGE_THRESHOLD, flagged, f"{rule} (score {score:.2f})" if flagged else "reads like text"
    )


def _symbol_share(text: str, letters: int) -> float:
    # str.split() splits on exactly the characters str.isspace() accepts.
    visible = len("".join(text.split()))
    return 1.0 - letters / visible


def _repeated_token_share(text: str) -> float:
    tokens = text.lower().split()
    if len(tokens) < 4:  # "data data" is a plausible title
        return 0.0
    return max(Counter(tokens).values()) / len(tokens)


def _mash_share(text: str) -> float:
    words = _MASH_WORD.findall(text.lower())
    if not words:
        return 0.0
    return sum(map(is_mash_word, words)) / len(words)


# Cached: most words recur from text to text, and the 30-way regex alternation
# costs far more than a cache lookup (16k short words: a few MB at most).
@lru_cache(maxsize=16384)
def is_mash_word(word: str) -> bool:
    return _MASH.search(word) is not None


def _has_same_letter_run(text: str) -> bool:
    pattern = _SAME_ASCII_LETTER_RUN if text.isascii() else _SAME_LETTER_RUN
    return pattern.search(text) is not None


def _result(name: str, score: float, threshold: float, flagged: bool, reason: str) -> CheckResult:
    return CheckResult(
        name=name,
        score=round(float(score), 6),
        threshold=round(float(threshold), 6),
        flagged=bool(flagged),
        reason=reason,
    )
