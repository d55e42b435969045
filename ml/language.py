"""Evidence that a text is not written in English, without any downloaded model.

Language-identification models are unreliable on what this project sees
most: short titles made of jargon ("YOLOv5 + DeepSORT on Jetson") that
contain no ordinary words at all.  So instead of asking "which language is
this?" we only collect positive evidence of *another* language:

* letters outside the Latin script (Cyrillic, CJK, Arabic, Devanagari, ...);
* function words (stopwords) of common Latin-script languages outweighing
  English function words;
* accented Latin letters, which English almost never uses.

Text without any function words (jargon) yields no evidence and so a score
near zero: it is never flagged for language alone.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_]+")

ENGLISH = frozenset(
    """
a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during
each few for from further had has have having he her here hers him his how i if
in into is it its itself just me more most my no nor not now of off on once only
or other our out over own same she should so some such than that the their them
then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your using based via
""".split()
)

# Function words only: these are frequent in running text of each language
# and rare inside English ML titles.  Words that are also English words are
# removed below (e.g. "die", "also", "son", "man"), so a hit is real evidence.
_FOREIGN_RAW = {
    "french": """le la les un une des du de et est sont dans pour par sur avec ce cette
        ces qui que quoi dont il elle ils elles nous vous leur leurs au aux pas plus
        mais ou où été être avoir fait très aussi comme sans sous chez entre notre votre""",
    "german": """der die das den dem des ein eine einer eines einem und ist sind nicht mit
        für auf im ist wir ihr sie es zu zum zur von vom bei aus auch nach wie oder
        aber noch nur über unter wird werden wurde haben hat sehr dass ich""",
    "spanish": """el la los las un una unos unas y es son en del al con por para sobre
        como pero más muy sin entre su sus que qué este esta estos estas ese esa
        nuestro nuestra nuestros hay ser está están fue también desde hasta""",
    "portuguese": """o os a as um uma uns umas e é são em no na nos nas do da dos das
        com por para sobre como mas mais muito sem entre seu sua seus suas que
        este esta isso essa não também foi ser está estão pelo pela""",
    "italian": """il lo la gli le un uno una e è sono in nel nella nei negli del della
        dei degli con per su come ma più molto senza tra fra suo sua che questo
        questa anche non alla allo ai agli al dal dalla""",
    "dutch": """de het een en is zijn niet met voor op aan van in te dat die dit deze
        wij jullie ze er ook maar nog wel al naar bij uit door over onder wordt
        worden werd heeft hebben zeer""",
    "swedish": """och att det som en ett är för på med av till den de inte har om var
        jag vi ni men också eller från vid efter mycket kan ska""",
    "polish": """i w z na do nie że się jest są to od po przez dla jak ale lub czy
        oraz jego jej ich tak już być został bardzo także""",
    "turkish": """ve bir bu da de için ile gibi çok daha olan olarak ama veya ne her
        şu en kadar sonra önce değil var yok""",
    "indonesian": """dan yang di ke dari untuk dengan adalah ini itu pada tidak akan
        dalam juga atau oleh sebagai bisa sudah kami kita mereka""",
}

# Short tokens that collide with English jargon or abbreviations in ML text
# ("de-noising", "die" as in "die roll", "en" for English, "te" for TE).
_COLLISIONS = frozenset(
    """
ai al ale ama av aux com come de dem den det di door dont e em en er es et il im
ini kan med men met mit ml na ne ni non od om op os plus po sem ser sin som son su
te till tra van var vi vid von w y yang z ze da dan
""".split()
)

FOREIGN: dict[str, frozenset[str]] = {
    language: frozenset(words.split()) - ENGLISH - _COLLISIONS for language, words in _FOREIGN_RAW.items()
}
# Word -> the FOREIGN languages (in FOREIGN order) it is a function word of,
# so each word of a text is looked up once instead of once per language.
_FOREIGN_LANGUAGES: dict[str, tuple[str, ...]] = {}
for _language, _vocabulary in FOREIGN.items():
    for _word in _vocabulary:
        _FOREIGN_LANGUAGES[_word] = _FOREIGN_LANGUAGES.get(_word, ()) + (_language,)
del _language, _vocabulary, _word
# Every foreign function word: a text without any has no stopword evidence of another language.
FOREIGN_FUNCTION_WORDS = frozenset(_FOREIGN_LANGUAGES)

# ASCII bytes that are not letters (by str.isalpha), deleted to count ASCII letters fast.
_ASCII_NON_LETTERS = bytes(i for i in range(128) if not chr(i).isalpha())
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# What _letter_kind returns for a non-ASCII character.
_NOT_A_LETTER, _ACCENTED, _NON_LATIN = 0, 1, 2

# How much weight one accented letter per ten letters carries: Spanish or
# French running text has ~3-5% accented letters, English ML text ~0%.
_ACCENT_WEIGHT = 10.0
# Pseudo-count of English words assumed present, so one foreign word in a
# jargon title does not make the stopword evidence decisive on its own.
_PRIOR_ENGLISH = 2


@dataclass(frozen=True)
class LanguageEvidence:
    """What was counted in one text, and the combined non-English score in [0, 1]."""

    letters: int
    non_latin_share: float
    accented_share: float
    english_words: int
    foreign_words: int
    foreign_language: str
    score: float


def count_letters(text: str) -> int:
    """Number of characters of ``text`` for which ``str.isalpha()`` is true."""
    if text.isascii():  # the common case: delete the non-letters in C and measure
        return len(text.encode("ascii").translate(None, _ASCII_NON_LETTERS))
    return sum(map(str.isalpha, text))


def language_evidence(text: str) -> LanguageEvidence:
    """Count non-English evidence in ``text`` (any case; URLs best removed first)."""
    # NFKC folds styled letters (mathematical italic "𝘢𝘯𝘺") back to plain Latin.
    normal = unicodedata.normalize("NFKC", text).lower()
    letters = count_letters(normal)
    # ASCII letters are Latin and unaccented, so only non-ASCII characters
    # (none at all in most texts) can be non-Latin or accented letters.
    non_latin = accented = 0
    for char in _NON_ASCII.findall(normal):
        kind = _letter_kind(char)
        non_latin += kind == _NON_LATIN
        accented += kind == _ACCENTED
    words = _WORD.findall(normal)
    english = sum(1 for w in words if w in ENGLISH)
    language, foreign = _best_foreign(words)
    n = max(letters, 1)
    evidence = (non_latin / n, accented / n, english, foreign)
    return LanguageEvidence(letters, non_latin / n, accented / n, english, foreign, language, _combine(*evidence))


@lru_cache(maxsize=4096)
def _letter_kind(char: str) -> int:
    """Classify one non-ASCII character: not a letter, accented Latin letter, or non-Latin letter."""
    if not char.isalpha():
        return _NOT_A_LETTER
    return _ACCENTED if unicodedata.name(char, "").startswith("LATIN") else _NON_LATIN


def _best_foreign(words: list[str]) -> tuple[str, int]:
    """The language with the most function-word hits (first in FOREIGN order on ties)."""
    found = [w for w in words if w in _FOREIGN_LANGUAGES]  # usually none
    if not found:
        return ("", 0)
    hits = dict.fromkeys(FOREIGN, 0)
    for word in found:
        for language in _FOREIGN_LANGUAGES[word]:
            hits[language] += 1
    best = max(hits, key=hits.__getitem__)  # max() keeps the first of equal maxima
    return (best, hits[best])


def _combine(non_latin: float, accented: float, english: int, foreign: int) -> float:
    """Noisy-or of three independent signals, each scaled to [0, 1]."""
    stopwords = foreign / (foreign + english + _PRIOR_ENGLISH)
    accents = min(1.0, accented * _ACCENT_WEIGHT)
    return 1.0 - (1.0 - non_latin) * (1.0 - stopwords) * (1.0 - accents)
