"""The per-class candidate policy (benchmarks.trust_per_class): it spends one window budget across classes."""

import math

from benchmarks.bench_trust import is_audit
from benchmarks.trust_per_class import Candidate, Evidence, allocate, pooled_risk, stream
from ml.trust import Audit, TrustSettings, prior_threshold

TAGS = ("clean", "risky")
SETTINGS = TrustSettings()
LOW = {tag: 0.5 for tag in TAGS}


def _spread(tag: str, count: int, wrong_every: int = 0) -> list[Evidence]:
    """``count`` items of ``tag`` at confidences spread over [0.5, 1); every ``wrong_every``-th one wrong, the
    most confident included."""
    return [
        Evidence(0.5 + 0.5 * k / count, tag, not (wrong_every and (count - 1 - k) % wrong_every == 0))
        for k in range(count)
    ]


def test_a_class_whose_confident_items_err_is_accepted_higher_than_a_clean_one():
    evidence = _spread("clean", 400) + _spread("risky", 400, wrong_every=10)
    vector = allocate(evidence, tags=TAGS, floor=LOW, settings=SETTINGS, shrinkage=0.0)
    assert vector is not None and vector["clean"] < vector["risky"]
    assert vector["clean"] == 0.5  # a clean class with this much evidence is accepted from the floor
    risk, _ = pooled_risk(evidence, vector, SETTINGS)
    assert risk is not None and risk <= SETTINGS.risk  # the pooled window goal holds for what it accepts


def test_the_vector_never_goes_below_the_floor_and_nothing_is_proven_on_little_evidence():
    evidence = _spread("clean", 400) + _spread("risky", 400, wrong_every=10)
    floor = {"clean": 0.8, "risky": 0.6}
    vector = allocate(evidence, tags=TAGS, floor=floor, settings=SETTINGS, shrinkage=5.0)
    assert vector is not None and all(vector[tag] >= floor[tag] for tag in TAGS)
    assert allocate(_spread("clean", 10), tags=TAGS, floor=LOW, settings=SETTINGS, shrinkage=0.0) is None


def test_shrinkage_keeps_a_thin_class_from_being_accepted_on_its_own_few_right_items():
    # A well-observed class wrong one time in five below 0.75 and never above, and three right items of a thin
    # class at 0.55, where the global error rate is high.
    risky = [Evidence(0.5 + 0.5 * k / 600, "risky", not (k < 300 and k % 5 == 0)) for k in range(600)]
    evidence = risky + [Evidence(0.55, "clean", True) for _ in range(3)]
    for method in ("greedy", "level"):
        own = allocate(evidence, tags=TAGS, floor=LOW, settings=SETTINGS, shrinkage=0.0, method=method)
        shrunk = allocate(evidence, tags=TAGS, floor=LOW, settings=SETTINGS, shrinkage=20.0, method=method)
        assert own is not None and shrunk is not None
        assert own["clean"] <= 0.55 < shrunk["clean"]
        assert own["risky"] == shrunk["risky"] > 0.7


def test_an_audited_error_raises_its_class_and_the_stream_stops_accepting_it():
    prior = _spread("clean", 400) + _spread("risky", 400)
    start = allocate(prior, tags=TAGS, floor=LOW, settings=SETTINGS, shrinkage=5.0)
    assert start is not None
    # The risky class moved: half its confident items are now wrong.
    items = [(f"k{k}", Evidence(0.95, "risky" if k % 2 else "clean", k % 4 != 1)) for k in range(300)]
    run = stream(items, start=start, prior=prior, settings=SETTINGS, policy=Candidate(5.0), seed=0, lag=3,
                 is_audit=is_audit)  # fmt: skip
    assert run.raises >= 1
    # After the raise, the moved class goes to review while the other one is still accepted at once.
    raised = next(k for k in range(300) if items[k][1].tag == "risky" and not run.accepted[k])
    after = range(raised, raised + 60)
    assert not any(run.accepted[k] for k in after if items[k][1].tag == "risky")
    assert all(run.accepted[k] for k in after if items[k][1].tag == "clean")


def test_with_infinite_shrinkage_there_is_one_threshold_as_the_shipped_policy_finds_it():
    evidence = _spread("clean", 400) + _spread("risky", 400, wrong_every=40)
    vector = allocate(evidence, tags=TAGS, floor=LOW, settings=SETTINGS, shrinkage=math.inf)
    assert vector is not None and vector["clean"] == vector["risky"]
    assert vector["clean"] == prior_threshold([Audit(e.confidence, e.correct) for e in evidence], SETTINGS)


def _validation_as_first_written(texts: list[str], tags: list[str], algorithm: str) -> list[Evidence]:
    """bench_trust_per_class's own copy of the time-ordered validation, before it called ml.time_validation."""
    from collections import Counter

    from benchmarks import bench_trust
    from ml.prediction import predict
    from ml.time_validation import forward_slices
    from ml.training import train_model

    evidence = []
    for train, test in forward_slices(len(texts), folds=bench_trust.TIME_FOLDS, share=bench_trust.TIME_SHARE):
        labels = [tags[i] for i in train]
        if len(set(labels)) < 2 or min(Counter(labels).values()) < 2:
            continue
        model = train_model(texts=[texts[i] for i in train], labels=labels, algorithm=algorithm, random_state=0)
        results = predict(model, [texts[i] for i in test])
        evidence += [Evidence(r.confidence, r.tag, r.tag == tags[i]) for i, r in zip(test, results)]
    return evidence


def test_the_validation_with_tags_is_the_shipped_time_ordered_one_on_the_dataset(dataset_file):
    from benchmarks.bench_trust_per_class import _validation
    from ml.dataset import read_labelled_csv
    from ml.text import prepare_text

    items = read_labelled_csv(dataset_file)[:600]
    texts, tags = [prepare_text(i.title, i.description) for i in items], [i.tag for i in items]
    assert _validation(texts, tags, "tfidf-linear") == _validation_as_first_written(texts, tags, "tfidf-linear")
    assert _validation(texts[:20], tags[:20], "tfidf-linear") == []  # too few for a slice
