"""Which texts of a batch some per-item check flags, decided for the whole batch at once.

:meth:`ml.ood.OODChecks.flagged_reasons` asks of every text of a re-prediction chunk only "does any
check flag it?", and writes reasons for the few that are flagged.  Asked one text at a time, that
question is mostly interpreter work: five Unicode regex scans, a ``Counter``, loops of dict look-ups
and a result object per text.  Here the batch's texts are joined into one string, separated by a
word no text contains, and encoded once as UTF-8.  Each tokenisation is then one ``bytes.translate``
(every byte that cannot be part of a token becomes a space) and one ``split``: the same tokens as the
regexes, at C speed.  Tokens become codes through ``map`` over dicts, which remember what each checks
needs of a token (its surprise, its wording weight, whether it is a mash word), and every per-text
count, sum and comparison is one numpy operation over the batch.

Screened so: texts whose only non-ASCII characters are "plain symbols" (punctuation and symbols that
are not letters, digits or spaces and that lowercasing and NFKC leave alone: quotes, dashes, emoji),
which is nearly every prepared text.  On them a letter is an ASCII letter, a word character is
[A-Za-z0-9_], ``isdigit`` is [0-9], and the language score is 0 unless a foreign function word occurs.

The one-text check (:meth:`OODChecks._any_flag`) decides instead, so the verdicts stay its own:

* texts with other non-ASCII characters (letters of any script, accents, unusual spaces), and every
  text of a batch where some text contains the separator word;
* texts with a foreign function word (their language score needs the English words counted: rare);
* texts with a score within ``EPSILON`` of its threshold that no other check flags for certain: the
  wording score sums a set's weights in the set's iteration order, which changes from process to
  process; here they are summed in another order, so the last bits of a sum can differ.

Two garbage rules are only screened here and then decided on the text itself: one word repeated (a
hash of each whitespace token can only merge tokens, so it over-counts repeats, never under-counts)
and a long run of one letter (a run in a text is a run in one of its lowercased words).  Everything
else is the one-text check's float operations in the same order, so it comes out equal;
tests/ml/test_ood_batch.py compares verdicts and scores on the dataset, the off-topic samples and
the tricky and random inputs.
"""

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ml.language import FOREIGN_FUNCTION_WORDS
from ml.ood import (
    _SAME_ASCII_LETTER_RUN,
    GARBAGE_THRESHOLD,
    MIN_LETTERS,
    PSEUDO_TOKENS,
    TopicCheck,
    UnigramModel,
    _has_same_letter_run,
    _repeated_token_share,
    is_mash_word,
)
from ml.wording import SYMBOLS

# Joins the texts of a batch: a token of each tokenisation, between spaces so no token crosses it.
SEPARATOR_WORD = "qqxoodbatchseparatorqqx"
SEPARATOR = f" {SEPARATOR_WORD} "
_SEPARATOR_BYTES = SEPARATOR_WORD.encode()
# A score this close to its threshold is judged by the one-text check (see the module docstring).
EPSILON = 1e-9
BUCKETS = 64  # hash buckets per text in which the "one word repeated" rule is screened (a power of two)
# Fewer texts go one at a time: the batch's fixed cost (some 150 µs) is more than two texts' own.
MIN_BATCH = 4
MAX_TOKENS = 200_000  # distinct tokens a table remembers before it starts afresh (a cache: some 20 MB at most)


def _keep(keep: Callable[[int], bool]) -> bytes:
    """A bytes.translate table turning every byte ``keep`` refuses into a space."""
    return bytes(b if keep(b) else 0x20 for b in range(256))


_WORD_BYTES = _keep(lambda b: b < 128 and (chr(b).isalnum() or chr(b) == "_"))  # \w on ASCII
_LETTER_BYTES = _keep(lambda b: ord("a") <= b <= ord("z"))  # ml.wording.LETTERS on lowercased text
# str.split() splits on these too, bytes.split() does not.
_SPACES = _keep(lambda b: b not in (0x1C, 0x1D, 0x1E, 0x1F))
_SPACE_ONES = bytes(int(b < 128 and chr(b).isspace()) for b in range(256))  # 1 for what str.isspace() accepts
_SYMBOL_CHARACTERS = SYMBOLS.strip("[]")  # the wording tokens that are not words
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Joiners of emoji sequences: neither letters nor spaces, unchanged by lowercasing and NFKC.
_EMOJI_JOINERS = frozenset("\u200d\ufe0f")


@lru_cache(maxsize=4096)
def _plain_symbol(char: str) -> bool:
    """A non-ASCII character no check can tell from ASCII punctuation (see the module docstring)."""
    if char in _EMOJI_JOINERS:
        return True
    category = unicodedata.category(char)
    return (
        category[0] in "PS"
        and category != "Pc"  # connectors such as "‿"
        and unicodedata.combining(char) == 0
        and char.lower() == char
        and unicodedata.normalize("NFKC", char) == char
    )


def screenable(text: str) -> bool:
    return text.isascii() or all(map(_plain_symbol, _NON_ASCII.findall(text)))


class _WordColumns(NamedTuple):
    """What the checks need of each wording token (a word or a symbol), indexed by its code."""

    weight: np.ndarray  # wording weight, 0 when the model has none
    known: np.ndarray  # the wording model has a weight for it
    letters: np.ndarray  # its length if it is a word, 0 for a symbol
    mash_word: np.ndarray  # a word of 4+ letters: judged for keyboard mash
    mash: np.ndarray  # ... and judged mash
    foreign: np.ndarray  # a foreign function word (ml.language)
    run: np.ndarray  # five of one letter in a row


def _word_columns(tokens: Iterable[str], weights: dict[str, float]) -> _WordColumns:
    real = list(tokens)
    letters = [len(t) if t.isalpha() else 0 for t in real]
    return _WordColumns(
        weight=np.array([weights.get(t, 0.0) for t in real], dtype=float),
        known=np.array([t in weights for t in real], dtype=bool),
        letters=np.array(letters, dtype=np.intp),
        mash_word=np.array([n >= 4 for n in letters], dtype=bool),
        mash=np.array([n >= 4 and is_mash_word(t) for t, n in zip(real, letters)], dtype=bool),
        foreign=np.array([t in FOREIGN_FUNCTION_WORDS for t in real], dtype=bool),
        run=np.array([_SAME_ASCII_LETTER_RUN.search(t) is not None for t in real], dtype=bool),
    )


class _WordTable:
    """Codes of the wording tokens seen so far (UTF-8; code 0 the separator), never changed once given.

    Shared by a process's threads: new columns are published before the codes that index them.
    """

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights
        self._lock = threading.Lock()
        self.codes: dict[bytes, int] = {_SEPARATOR_BYTES: 0}
        self.columns = _word_columns([""], {})  # the separator: no letters, no weight, nothing
        self._add(symbol.encode() for symbol in _SYMBOL_CHARACTERS)

    def encode(self, tokens: list[bytes]) -> tuple[np.ndarray, _WordColumns]:
        new = set(tokens).difference(self.codes)
        if new:
            self._add(new)
        codes = np.fromiter(map(self.codes.__getitem__, tokens), dtype=np.intp, count=len(tokens))
        return codes, self.columns

    def _add(self, tokens: Iterable[bytes]) -> None:
        with self._lock:
            new = sorted(set(tokens).difference(self.codes))  # another thread may have added some meanwhile
            extra = _word_columns((t.decode() for t in new), self.weights)
            self.columns = _WordColumns(*(np.concatenate([old, more]) for old, more in zip(self.columns, extra)))
            start = len(self.codes)
            self.codes.update(zip(new, range(start, start + len(new))))


class _ContentTable:
    """Content word (UTF-8) -> code: 0..V-1 the vocabulary, then unseen, not a content word, separator."""

    def __init__(self, unigram: UnigramModel) -> None:
        seen, unseen_surprise = unigram.surprise_table
        self.unseen, self.skip, self.separator = len(seen), len(seen) + 1, len(seen) + 2
        # Only what content_tokens can produce (a stored vocabulary is not trusted to hold nothing else).
        base = {word.encode(): code for code, word in enumerate(seen) if len(word) > 1 and not word.isdigit()}
        base.update(dict.fromkeys((w.encode() for w in ENGLISH_STOP_WORDS), self.skip))  # stopwords never count
        base[_SEPARATOR_BYTES] = self.separator
        self._base = base
        self.codes = dict(base)
        self.surprise = np.array([*seen.values(), unseen_surprise, 0.0, 0.0], dtype=float)

    def encode(self, tokens: list[bytes]) -> np.ndarray:
        if len(self.codes) > len(self._base) + MAX_TOKENS:
            self.codes = dict(self._base)
        codes = self.codes
        for token in set(tokens).difference(codes):  # ml.ood.content_tokens leaves out numbers, \w\w+ single ones
            codes[token] = self.skip if len(token) < 2 or token.isdigit() else self.unseen
        return np.fromiter(map(codes.__getitem__, tokens), dtype=np.intp, count=len(tokens))


class _Batch:
    """The screened texts joined, lowered and encoded, and where each one starts."""

    def __init__(self, texts: list[str]) -> None:
        self.texts, self.size = texts, len(texts)
        # bytes.lower() lowers ASCII only: plain symbols have no case, so this is the lowered texts' UTF-8.
        self.lower = SEPARATOR.join(texts).encode().lower()
        lengths = np.array([len(t) if t.isascii() else len(t.encode()) for t in texts], dtype=np.intp)
        self.byte_lengths = lengths
        self.byte_starts = np.cumsum(lengths + len(SEPARATOR)) - lengths - len(SEPARATOR)  # in self.lower

    def holds_separator(self) -> bool:
        return self.lower.count(_SEPARATOR_BYTES) != self.size - 1

    def count(self, text_of: np.ndarray, weights: np.ndarray | None = None, minlength: int = 0) -> np.ndarray:
        """Per text, how many of these tokens (or the sum of their weights, in token order)."""
        return np.bincount(text_of, weights=weights, minlength=minlength or self.size)


def _text_of(is_separator: np.ndarray) -> np.ndarray:
    """Each token's text: how many separators come before it."""
    return np.cumsum(is_separator)


def _whitespace_tokens(batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
    """str.split()'s tokens of every text: (text, hash) of each."""
    tokens = batch.lower.translate(_SPACES).split()
    hashes = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens))
    is_separator: np.ndarray = hashes == hash(_SEPARATOR_BYTES)
    candidates = np.flatnonzero(is_separator)  # every separator, and (hardly ever) a token of the same hash
    if len(candidates) != batch.size - 1:
        is_separator[candidates] = [tokens[i] == _SEPARATOR_BYTES for i in candidates.tolist()]
    keep = ~is_separator
    return _text_of(is_separator)[keep], hashes[keep]


def _first_of_equals(ordered: np.ndarray) -> np.ndarray:
    """Which elements of a sorted array differ from the one before (the first always does)."""
    first: np.ndarray = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return first


def _visible(batch: _Batch) -> np.ndarray:
    """Per text, its characters that are not whitespace (ml.ood._symbol_share's ``visible``)."""
    # One byte more: the last text may be empty and start at the very end.
    is_space = np.frombuffer(batch.lower.translate(_SPACE_ONES) + b"\0", dtype=np.uint8)
    # Whitespace bytes from each text's start to the next one's: the text's, then the separator's two.
    spaces = np.add.reduceat(is_space, batch.byte_starts, dtype=np.intp)
    spaces[:-1] -= SEPARATOR.count(" ")
    visible: np.ndarray = (batch.byte_lengths - spaces).astype(float)
    for i in [i for i, t in enumerate(batch.texts) if not t.isascii()]:
        visible[i] = len("".join(batch.texts[i].split()))  # a plain symbol is several UTF-8 bytes
    return visible


def _maybe_repeated(batch: _Batch, text: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Texts where ml.ood._repeated_token_share may reach the threshold (4+ tokens, one of them half).

    Each text's tokens are counted in BUCKETS by hash: a bucket holds every repeat of a token, and maybe
    others, so its count is at least that token's; a text none of whose buckets reaches half passes.
    """
    buckets = batch.count(text * BUCKETS + (hashes & (BUCKETS - 1)), minlength=batch.size * BUCKETS)
    most = buckets.reshape(batch.size, BUCKETS).max(axis=1, initial=0)
    tokens = batch.count(text)
    with np.errstate(divide="ignore", invalid="ignore"):
        maybe: np.ndarray = (tokens >= 4) & (most / tokens >= GARBAGE_THRESHOLD)
    return maybe


class BatchScreen:
    """The verdict of :meth:`OODChecks._any_flag` on every text of a batch; see the module docstring."""

    def __init__(self, unigram: UnigramModel, typical_surprise: float, topic: TopicCheck | None) -> None:
        self.unigram, self.typical_surprise, self.topic = unigram, typical_surprise, topic
        self._content = _ContentTable(unigram)
        self._words = _WordTable(topic.wording.weights if topic is not None else {})

    def flags(
        self,
        texts: list[str],
        distances: list[float | None],
        thresholds: dict[str, float],
        one_text: Callable[[str, float | None], bool],
    ) -> list[bool]:
        """Whether some check flags each text; ``one_text`` is the one-text check, for what is not screened."""
        if len(texts) < MIN_BATCH:
            return [one_text(text, d) for text, d in zip(texts, distances)]
        if len(self._words.codes) > MAX_TOKENS:
            self._words = _WordTable(self._words.weights)
        verdicts: list[int] = [-1] * len(texts)
        screened = [i for i, text in enumerate(texts) if text.isascii() or screenable(text)]
        batch = _Batch([texts[i] for i in screened])
        if batch.holds_separator():  # rare: leave the texts that hold it to the one-text check
            screened = [i for i in screened if _SEPARATOR_BYTES not in texts[i].lower().encode()]
            batch = _Batch([texts[i] for i in screened])
        if screened:
            found = self._screen(batch, [distances[i] for i in screened], thresholds).tolist()
            for i, verdict in zip(screened, found):
                verdicts[i] = verdict
        return [one_text(text, d) if v < 0 else bool(v) for text, d, v in zip(texts, distances, verdicts)]

    def _screen(self, batch: _Batch, distances: list[float | None], thresholds: dict[str, float]) -> np.ndarray:
        """Per text 1 (flagged), 0 (passes) or -1 (not certain: left to the one-text check)."""
        table = self._words  # one table for the whole batch, even if another thread starts a new one
        words, columns = table.encode(batch.lower.translate(_LETTER_BYTES).split())
        word_text = _text_of(words == 0)
        flagged = self._garbage(batch, words, word_text, columns)
        # Without a foreign function word the language score is 0.
        unsure = batch.count(word_text[columns.foreign[words]]) > 0
        flagged |= 0.0 > thresholds["language"]
        surprise, oov, tokens = self._vocabulary(batch)
        scores: list[tuple[np.ndarray, float | np.ndarray]] = [
            (oov, thresholds["oov"]),
            (surprise, thresholds["surprise"]),
        ]
        if self.topic is not None:
            scores.append(
                (self._topic_score(batch, table, words, word_text, surprise, distances), self._topic_limits(tokens))
            )
        for score, limit in scores:
            flagged |= score > limit + EPSILON
            unsure |= np.abs(score - limit) <= EPSILON
        return np.where(flagged, 1, np.where(unsure, -1, 0))

    def _garbage(self, batch: _Batch, words: np.ndarray, word_text: np.ndarray, columns: _WordColumns) -> np.ndarray:
        """ml.ood.garbage_check's verdict: almost no letters, or one of its rules at the threshold."""
        letters = batch.count(word_text, weights=columns.letters[words].astype(float))
        text, hashes = _whitespace_tokens(batch)
        flagged = letters < MIN_LETTERS
        with np.errstate(divide="ignore", invalid="ignore"):
            flagged |= 1.0 - letters / _visible(batch) >= GARBAGE_THRESHOLD  # symbols or digits
            mash = batch.count(word_text[columns.mash[words]]) / batch.count(word_text[columns.mash_word[words]])
        flagged |= mash >= GARBAGE_THRESHOLD  # keyboard mash (no words: nan, not flagged)
        maybe = _maybe_repeated(batch, text, hashes) | (batch.count(word_text[columns.run[words]]) > 0)
        for i in np.flatnonzero(maybe & ~flagged).tolist():
            one = batch.texts[i]
            flagged[i] = _repeated_token_share(one) >= GARBAGE_THRESHOLD or _has_same_letter_run(one)
        return flagged

    def _topic_limits(self, tokens: np.ndarray) -> float | np.ndarray:
        """ml.ood.TopicCheck.threshold_for of every text, from its content tokens."""
        topic = self.topic
        assert topic is not None
        if topic.short_threshold is None:
            return topic.threshold
        return np.where(tokens <= topic.short_tokens, topic.short_threshold, topic.threshold)

    def _vocabulary(self, batch: _Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ml.ood.vocabulary_scores of every text: (surprise, OOV share, content tokens)."""
        table = self._content
        codes = table.encode(batch.lower.translate(_WORD_BYTES).split())
        text = _text_of(codes == table.separator)
        content = codes <= table.unseen
        tokens = batch.count(text[content])
        unseen = batch.count(text[codes == table.unseen])
        # bincount adds each text's weights in token order, from 0.0: the same sum as Python's sum().
        total = batch.count(text[content], weights=table.surprise[codes[content]])
        shrunk = tokens + PSEUDO_TOKENS
        return (total + PSEUDO_TOKENS * self.typical_surprise) / shrunk, unseen / shrunk, tokens

    def _topic_score(
        self,
        batch: _Batch,
        table: _WordTable,
        words: np.ndarray,
        word_text: np.ndarray,
        surprise: np.ndarray,
        distances: list[float | None],
    ) -> np.ndarray:
        """TopicCheck._parts' score: surprise, wording and meaning in sd, weighted and added."""
        topic = self.topic
        assert topic is not None
        text, code = _known_wording(batch, table, words, word_text)
        count, total = batch.count(text), batch.count(text, weights=table.columns.weight[code])
        intercept = topic.wording.intercept
        with np.errstate(divide="ignore", invalid="ignore"):
            wording = np.where(count > 0, intercept + total / np.sqrt(count), intercept)
        surprise_sd = (surprise - topic.surprise_scale.center) / topic.surprise_scale.scale
        wording_sd = (wording - topic.wording_scale.center) / topic.wording_scale.scale
        meaning_sd = np.zeros(batch.size)
        if topic.semantic_scale is not None:
            measured = np.array([d is not None for d in distances], dtype=bool)
            values = np.array([d for d in distances if d is not None], dtype=float)
            meaning_sd[measured] = (values - topic.semantic_scale.center) / topic.semantic_scale.scale
        return surprise_sd + topic.wording_weight * wording_sd + topic.semantic_weight * meaning_sd


def _known_wording(
    batch: _Batch, table: _WordTable, words: np.ndarray, word_text: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(text, token code) of each distinct wording token with a weight in each text: words and symbols."""
    symbol_text, symbol_code = _symbols(batch, table)
    text = np.concatenate([word_text, symbol_text]).astype(np.intp)
    code = np.concatenate([words, symbol_code])
    known = table.columns.known[code]
    span = len(table.columns.known)
    pairs = np.sort(text[known] * span + code[known])
    pairs = pairs[_first_of_equals(pairs)]  # each token once per text, as in a set
    return pairs // span, pairs % span


def _symbols(batch: _Batch, table: _WordTable) -> tuple[np.ndarray, np.ndarray]:
    """(text, code) of every symbol token: rare, so found with bytes.find."""
    found: list[int] = []
    codes: list[int] = []
    for symbol in _SYMBOL_CHARACTERS:
        key = symbol.encode()
        at = batch.lower.find(key)
        while at >= 0:
            found.append(at)
            codes.append(table.codes[key])
            at = batch.lower.find(key, at + 1)
    text = np.searchsorted(batch.byte_starts, found, side="right") - 1
    return text, np.array(codes, dtype=np.intp)
