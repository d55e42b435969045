"""The topic check on short texts, before and after their own threshold (``ml.ood``, ``short_texts``).

``python -m benchmarks.bench_short_texts`` fits the checks as make run's first retrain does (the demo's train split,
in time order, the tuning off-topic samples) with and without the training titles, for tfidf-linear (no meaning part)
and minilm-linear (with it), and prints how many texts of each set are flagged: the plain ML and off-topic titles
written down in tests/ml/test_ood_short_texts.py, the newest 20% of the dataset (never trained on) as titles alone
and as full items, and the off-topic samples as titles alone and in full. It prints only: the figures are copied
into docs/benchmarks.md by hand (section "product").
"""

import time

from ml.offtopic import NEVER_TUNED, TUNING, read_offtopic_samples
from ml.ood import default_encode, fit_ood_checks
from ml.text import prepare_text
from tests.ml.test_ood_short_texts import OFF_TOPIC_SHORT, ON_TOPIC_SHORT, demo_texts


def main() -> None:
    demo = demo_texts()
    samples = read_offtopic_samples()
    tuning = [prepare_text(s.title, s.description) for s in samples if s.slice == TUNING]
    never = [s for s in samples if s.slice == NEVER_TUNED]
    sets = {
        "plain ML titles (30)": [prepare_text(t, "") for t in ON_TOPIC_SHORT],
        "stream titles alone": demo["stream_titles"],
        "stream full items": demo["stream_items"],
        "off-topic titles (30)": [prepare_text(t, "") for t in OFF_TOPIC_SHORT],
        "never-tuned off-topic, title alone": [prepare_text(s.title, "") for s in never],
        "never-tuned off-topic, full": [prepare_text(s.title, s.description) for s in never],
    }
    order = list(range(len(demo["texts"])))
    for label, encode in (("tfidf-linear", None), ("minilm-linear", default_encode)):
        for short in (False, True):
            started = time.process_time()
            checks = fit_ood_checks(
                demo["texts"],
                offtopic_texts=tuning,
                encode=encode,
                oldest_first=order,
                short_texts=demo["titles"] if short else None,
            )
            cpu = time.process_time() - started
            topic = checks.topic
            assert topic is not None
            limits = f"threshold {topic.threshold:.2f}" + (
                f", short {topic.short_threshold:.2f} (<= {topic.short_tokens} words)" if topic.short_threshold else ""
            )
            print(f"{label}, {'after' if short else 'before'}: {limits}; fit {cpu:.1f} s CPU")
            for name, texts in sets.items():
                flagged = checks.flagged_reasons(texts, encode(texts) if encode is not None else None)
                print(f"    {name}: {sum(1 for reasons in flagged if reasons)}/{len(texts)} flagged")


if __name__ == "__main__":
    main()
