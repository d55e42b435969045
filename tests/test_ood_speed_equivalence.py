"""The fast ``OODChecks.check`` / ``language_evidence`` give exactly the old results.

``ml/ood.py`` and ``ml/language.py`` were rewritten for speed (regexes and an
ASCII fast path instead of per-character Python loops, cached unigram total
and surprises, a per-word mash cache).  ``tests/data/ood_reference.json``
holds the outputs of the *previous* implementation (the code before the
rewrite, run by :func:`build_reference`), for

* every text of ``data/madewithml_dataset.csv`` (prepared with
  :func:`ml.text.prepare_text`): each check's score and flag, a digest of the
  full ``ItemCheck.to_dict()`` (reason strings included) and the language
  evidence, and
* a set of tricky inputs (non-Latin scripts, accented and styled letters,
  keyboard mash, symbol soup, empty and tiny texts, ...), stored with the
  text and the full ``to_dict()``, and
* random texts mixing all of those (:func:`random_texts`), stored with the
  text, scores, flags and digest,

with the checks fitted by :func:`ml.ood.fit_ood_checks` (default arguments)
on the dataset texts.  The tests recompute everything and compare.

Regenerating the reference (``PYTHONPATH=. python
tests/test_ood_speed_equivalence.py``) turns it into a snapshot of the
*current* code; only do it when a change of results is intended.
"""

import hashlib
import json
import random
import sys
from pathlib import Path

import pytest

from ml.dataset import read_dataset_rows
from ml.language import ENGLISH, FOREIGN, language_evidence
from ml.offtopic import read_offtopic_samples
from ml.ood import OODChecks, fit_ood_checks
from ml.text import prepare_text

REPO = Path(__file__).resolve().parent.parent
DATASET = REPO / "data" / "madewithml_dataset.csv"
REFERENCE = REPO / "tests" / "data" / "ood_reference.json"

# Inputs chosen to hit every branch of the character-level code paths.
TRICKY = [
    # empty, whitespace, tiny
    "",
    " ",
    "\n\t ",
    "a",
    "ok",
    "test",
    "abcd",
    "abcde",
    "SimGNN",
    "x" * 5,
    "é",
    "ééééé",
    # non-Latin scripts, pure and mixed with English
    "Машинное обучение для обработки естественного языка",
    "Нейронные сети: BERT и GPT для классификации текста",
    "深度学习在自然语言处理中的应用",
    "BERT 模型 的 微调 方法",
    "機械学習 と ディープラーニング",
    "딥러닝을 이용한 이미지 분류",
    "التعلم العميق لمعالجة اللغة الطبيعية",
    "Transformers للترجمة الآلية",
    "गहन शिक्षण के लिए एक परिचय",
    "Μηχανική μάθηση και νευρωνικά δίκτυα",
    "למידת מכונה בעברית",
    "การเรียนรู้ของเครื่อง",
    "Graph neural networks (GNN) — обзор",
    # accented Latin and Latin-script languages
    "Apprentissage automatique pour la détection des fraudes dans les transactions",
    "Le modèle est entraîné sur des données très bruitées et nous avons été surpris",
    "Aprendizaje profundo para la clasificación de imágenes médicas con redes neuronales",
    "El modelo está entrenado con más datos y también es muy rápido",
    "Maschinelles Lernen für die Erkennung von Anomalien in Zeitreihen über Jahre",
    "Wir haben das Modell mit großen Datenmengen trainiert, und es ist sehr schnell",
    "Aprendizado de máquina para análise de sentimentos em português não é fácil",
    "Apprendimento automatico per la classificazione delle immagini è più veloce",
    "Machine learning voor het herkennen van objecten in beelden werd zeer snel",
    "Maskininlärning för bildigenkänning och också mycket mer",
    "Uczenie maszynowe dla przetwarzania języka naturalnego jest bardzo także",
    "Makine öğrenmesi için bir çok veri daha olan model değil",
    "Pembelajaran mesin untuk pengenalan gambar dengan data yang besar adalah mudah",
    "naïve Bayes café résumé façade coöperate Zürich Ångström Øresund Łódź ß æ œ",
    "Straße İstanbul ıi Đà Nẵng ǅ ǲ ŉ ĳ",
    "e\u0301cole de\u0301ja\u0300 vu (combining accents)",
    # styled / compatibility letters that NFKC folds (or does not fold)
    "𝘢𝘯𝘺 𝘵𝘦𝘹𝘵 𝘪𝘯 𝘪𝘵𝘢𝘭𝘪𝘤𝘴",
    "𝐁𝐨𝐥𝐝 𝐝𝐞𝐞𝐩 𝐥𝐞𝐚𝐫𝐧𝐢𝐧𝐠",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ ｍｏｄｅｌ",
    "ⓐⓢⓓⓕⓖ circled",
    "ﬁne-tuning ﬂow ﬀ",
    "Ⅻ Roman Ⅳ",
    "x² + y³ = z⁴",
    "ª º µ Å K ℌ ſ",
    "Hawaiʻi ʼokina ʰmodifier ˈstress",
    "ＡＳＤＦＧＨ ＱＷＥＲＴＹ",
    "𝖆𝖘𝖉𝖋𝖌𝖍 qwerty",
    # keyboard mash, repeats, nonsense words
    "asdfgh qwerty",
    "asdfgh qwerty zxcvbn",
    "qwertyuiop asdfghjkl zxcvbnm",
    "lkjhg poiuy mnbvc",
    "ASDFG QWERT ZXCVB",
    "aaaaaa",
    "aaaaaa bbbbbb",
    "AAAAAAA!!!",
    "ñññññ",
    "ééééé ééééé",
    "sdfsdfsdf hahaha",
    "hahahaha lol",
    "abababab cdcdcdcd",
    "bcdfghjklm nprstvwxz",
    "rhythms strengths twelfths",
    "tsktsk pfft brrrr shhhhh",
    "xkcd comics wwwww",
    "qwërty asdfğh",
    "Deep learning asdfgh with some real words here",
    # digits and symbols
    "1234 5678 !!!! $$$$",
    "@#$%^&*()_+{}|:<>?",
    "12345",
    "a1b2c3d4e5",
    "3.14159 2.71828 1.41421",
    "$$$ 100% FREE!!! $$$ >>> click <<<",
    "!!!???... ---",
    "—–‒― «» „“ ‹›",
    "🚀🔥💯 emoji only 🤖",
    "🚀🔥💯🤖🎉",
    "x86_64 gpt4all llama2 v1.2.3",
    "_____ ----- =====",
    "\u200b\u200b\u200b zero width",
    "non\u00a0breaking\u00a0spaces and\u3000ideographic",
    "tab\tseparated\twords\there",
    # repeated words
    "data data data data",
    "Data data DATA data",
    "buy buy buy now",
    "the the the the the",
    "spam spam spam spam spam spam eggs",
    "deep learning deep learning deep learning",
    # ordinary English and ML jargon
    "BERT fine-tuning with LoRA",
    "YOLOv5 on Jetson Nano",
    "de-noising GANs for MRI",
    "Rasa NLU et al.",
    "The quick brown fox jumps over the lazy dog",
    "Free shipping on all orders over $50 city council meeting tonight",
    "x" * 1000,
    "word " * 300,
]


# Pieces for random_texts(): characters of every kind the character-level code
# distinguishes, and the whitespace characters str.isspace() accepts.
RANDOM_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,;:!?$%&*()'\"/@#"
    "éèàçñüößøłİıĐǅǲŉĳæœÅабвгдежзийклмнопрстДЖ深度学习模型的微调ابتثجحαβγδΣΩ"
    "𝘢𝘯𝘺𝐁𝐨𝖆ＡＢｔｘⓐⓢﬁﬂⅫⅣ²³ªºµÅKℌſʻʼʰˈ\u0301\u0308🚀🔥🤖—–«»„“’…\u200b\x00\x7f"
)
RANDOM_SPACES = [
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\x0b",
    "\x1c",
    "\x1f",
    "\x85",
    "\xa0",
    "\u2003",
    "\u3000",
    "\u2028",
]
KEYBOARD_LINES = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "poiuytrewq", "lkjhgfdsa", "mnbvcxz"]


def random_texts(seed: int = 20240601, count: int = 300) -> list[str]:
    """Texts of random tokens: function words, keyboard runs, consonant clusters,
    repeated units and letters, plain words, and soup of RANDOM_CHARS."""
    rng = random.Random(seed)
    function_words = sorted(set().union(*FOREIGN.values()) | ENGLISH)

    def token() -> str:
        kind = rng.randrange(8)
        if kind == 0:
            return rng.choice(function_words)
        if kind == 1:
            line = rng.choice(KEYBOARD_LINES)
            start = rng.randrange(len(line) - 3)
            return line[start : start + rng.randint(4, 7)]
        if kind == 2:
            return "".join(rng.choice("bcdfghjklmnpqrstvwxzy") for _ in range(rng.randint(3, 9)))
        if kind == 3:
            return "".join(rng.choice("abcdehk") for _ in range(rng.randint(1, 4))) * rng.randint(1, 5)
        if kind == 4:
            return rng.choice("aAeéxñ-. ") * rng.randint(3, 8)
        if kind == 5:
            return rng.choice(["data", "Data", "DATA", "model", "learning"])
        if kind == 6:
            return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 12)))
        return "".join(rng.choice(RANDOM_CHARS) for _ in range(rng.randint(1, 8)))

    return ["".join(token() + rng.choice(RANDOM_SPACES) for _ in range(rng.randint(0, 20))) for _ in range(count)]


def dataset_texts() -> list[str]:
    return [prepare_text(r.item.title, r.item.description) for r in read_dataset_rows(DATASET)]


def tricky_texts() -> list[str]:
    """TRICKY plus the hand-written off-topic samples (title and description, prepared)."""
    offtopic = [prepare_text(s.title, s.description) for s in read_offtopic_samples()]
    return list(TRICKY) + offtopic


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def evidence_list(text: str) -> list:
    e = language_evidence(text)
    return [
        e.letters,
        e.non_latin_share,
        e.accented_share,
        e.english_words,
        e.foreign_words,
        e.foreign_language,
        e.score,
    ]


def compact(item: dict) -> dict:
    """Scores and flags of one ``ItemCheck.to_dict()`` plus a digest of all of it."""
    return {"checks": {name: [c["score"], c["flagged"]] for name, c in item["checks"].items()}, "digest": digest(item)}


def fit_summary(checks: OODChecks) -> dict:
    data = checks.to_dict()
    vocabulary = data.pop("vocabulary")
    return {
        **data,
        "vocabulary_size": len(vocabulary),
        "vocabulary_digest": digest(vocabulary),
        "total": checks.unigram.total,
    }


def build_reference() -> dict:
    texts = dataset_texts()
    checks = fit_ood_checks(texts)
    tricky = tricky_texts()
    randoms = random_texts()
    return {
        "fit": fit_summary(checks),
        "dataset": {
            "count": len(texts),
            "texts_digest": digest(texts),
            "results": [compact(item.to_dict()) for item in checks.check(texts)],
            "language": [evidence_list(t) for t in texts],
        },
        "tricky": [
            {"text": t, "result": item.to_dict(), "language": evidence_list(t)}
            for t, item in zip(tricky, checks.check(tricky))
        ],
        "random": [
            {"text": t, "result": compact(item.to_dict()), "language": evidence_list(t)}
            for t, item in zip(randoms, checks.check(randoms))
        ],
    }


def assert_evidence_equal(actual: list, expected: list, text: str) -> None:
    ints = [0, 3, 4, 5]  # letters, english_words, foreign_words, foreign_language
    assert [actual[i] for i in ints] == [expected[i] for i in ints], text
    for i in (1, 2, 6):  # non_latin_share, accented_share, score
        assert actual[i] == pytest.approx(expected[i], rel=1e-12, abs=1e-15), (i, text)


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def texts(reference) -> list[str]:
    texts = dataset_texts()
    if digest(texts) != reference["dataset"]["texts_digest"]:
        pytest.fail(
            f"{DATASET} changed since {REFERENCE} was written; the reference only "
            "proves equivalence for the dataset it was built from"
        )
    return texts


@pytest.fixture(scope="module")
def checks(texts) -> OODChecks:
    return fit_ood_checks(texts)


def test_fit_is_unchanged(reference, checks):
    assert fit_summary(checks) == reference["fit"]


def test_restored_checks_fit_is_unchanged(reference, checks):
    restored = OODChecks.from_dict(json.loads(json.dumps(checks.to_dict())))
    assert fit_summary(restored) == reference["fit"]
    assert restored.unigram.total == reference["fit"]["total"]


def test_dataset_checks_are_unchanged(reference, texts, checks):
    expected = reference["dataset"]["results"]
    actual = [compact(item.to_dict()) for item in checks.check(texts)]
    assert len(actual) == len(expected)
    for text, got, want in zip(texts, actual, expected):
        assert got == want, text


def test_dataset_language_evidence_is_unchanged(reference, texts):
    for text, want in zip(texts, reference["dataset"]["language"]):
        assert_evidence_equal(evidence_list(text), want, text)


def test_tricky_inputs_are_unchanged(reference, checks):
    # The stored texts are the inputs (so later edits of data/offtopic_samples.jsonl do
    # not break this test); TRICKY must still be what the reference was built from.
    cases = reference["tricky"]
    assert [case["text"] for case in cases[: len(TRICKY)]] == TRICKY, (
        "TRICKY changed; the reference was built from the old list"
    )
    results = checks.check([case["text"] for case in cases])
    for case, item in zip(cases, results):
        assert item.to_dict() == case["result"], case["text"]
        assert_evidence_equal(evidence_list(case["text"]), case["language"], case["text"])


def test_random_inputs_are_unchanged(reference, checks):
    cases = reference["random"]
    results = checks.check([case["text"] for case in cases])
    for case, item in zip(cases, results):
        assert compact(item.to_dict()) == case["result"], case["text"]
        assert_evidence_equal(evidence_list(case["text"]), case["language"], case["text"])


def test_checks_one_by_one_match_batch(reference, checks):
    cases = reference["tricky"]
    for case in cases:
        assert checks.check([case["text"]])[0].to_dict() == case["result"], case["text"]


if __name__ == "__main__":
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    REFERENCE.write_text(
        json.dumps(build_reference(), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size / 1024:.0f} KiB)", file=sys.stderr)
