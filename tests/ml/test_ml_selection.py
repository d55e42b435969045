import pytest

from ml.items import PredictionResult
from ml.operating_point import operating_point
from ml.selection import CrossValidation, adapted_folds, choose_review_threshold, cross_validate

CV, NLP, OPS = "cv", "nlp", "ops"
WORDS = {CV: "image pixels camera photo", NLP: "sentence words grammar text", OPS: "deploy docker kubernetes server"}


def toy(n_per_class: int, classes=(CV, NLP, OPS)) -> tuple[list[str], list[str]]:
    """Interleaved, separable items: item i of class c is c's words plus a number."""
    texts, labels = [], []
    for i in range(n_per_class):
        for c in classes:
            texts.append(f"{WORDS[c]} item{i}")
            labels.append(c)
    return texts, labels


def test_out_of_fold_predictions_follow_the_input_order():
    texts, labels = toy(8)
    tags = {CV: "computer-vision", NLP: "natural-language-processing", OPS: "mlops"}
    # Reversed, so the input order is not the order the folds are built in.
    texts, labels = texts[::-1], [tags[label] for label in labels[::-1]]
    result = cross_validate(texts=texts, labels=labels, algorithm="rules", folds=4)
    # The keyword baseline tags each text by its own vocabulary, so result i
    # matching label i shows the results are in input order.
    assert [r.tag for r in result.oof] == labels


def test_learned_model_scores_every_fold_and_summarises():
    texts, labels = toy(10)
    result = cross_validate(texts=texts, labels=labels, algorithm="tfidf-linear", folds=5, random_state=1)
    assert isinstance(result, CrossValidation)
    assert result.folds == 5 and len(result.fold_f1) == 5 and len(result.fit_seconds) == 5
    assert result.mean_f1 == 1.0 and result.sd_f1 == 0.0
    assert [r.tag for r in result.oof] == labels
    assert all(set(r.probabilities) == {CV, NLP, OPS} for r in result.oof)


def test_folds_shrink_to_the_rarest_class():
    texts, labels = toy(6, classes=(CV, NLP))
    texts, labels = texts + [f"{WORDS[OPS]} a", f"{WORDS[OPS]} b", f"{WORDS[OPS]} c"], labels + [OPS] * 3
    result = cross_validate(texts=texts, labels=labels, algorithm="majority", folds=5)
    assert result.folds == 3 and len(result.fold_f1) == 3


def test_adapted_folds_bounds():
    from collections import Counter

    assert adapted_folds(Counter(a=10, b=10), 5) == 5
    assert adapted_folds(Counter(a=10, b=1), 5) == 2  # never below 2
    with pytest.raises(ValueError, match="at least 2 folds"):
        adapted_folds(Counter(a=3, b=3), 1)


def test_same_seed_same_result():
    texts, labels = toy(6)
    first = cross_validate(texts=texts, labels=labels, algorithm="random", folds=3, random_state=5)
    second = cross_validate(texts=texts, labels=labels, algorithm="random", folds=3, random_state=5)
    assert first.oof == second.oof and first.fold_f1 == second.fold_f1


def test_progress_runs_from_zero_to_hundred():
    calls = []
    texts, labels = toy(4)
    cross_validate(
        texts=texts, labels=labels, algorithm="majority", folds=2, progress=lambda percent, stage: calls.append(percent)
    )
    assert calls == sorted(calls) and calls[0] == 0 and calls[-1] == 100


def test_unusable_data_is_rejected():
    with pytest.raises(ValueError, match="at least 2 distinct labels"):
        cross_validate(texts=["a", "b", "c"], labels=[CV] * 3, algorithm="majority")


def test_review_threshold_is_the_out_of_fold_operating_point():
    texts, labels = toy(10)
    result = cross_validate(texts=texts, labels=labels, algorithm="tfidf-linear")
    chosen = choose_review_threshold(result, labels, target_precision=0.9)
    assert chosen == {**operating_point(result.oof, labels, 0.9), "sample": "all", "sample_size": len(labels)}
    assert chosen["automation_rate"] == 1.0 and chosen["threshold"] is not None


def test_review_threshold_needs_the_labels_the_cv_saw():
    oof = [PredictionResult(tag=CV, probabilities={CV: 1.0}, confidence=1.0)]
    result = CrossValidation(algorithm="x", folds=2, fold_f1=[1.0], mean_f1=1.0, sd_f1=0.0, oof=oof, fit_seconds=[0.0])
    with pytest.raises(ValueError, match="2 labels for 1 out-of-fold"):
        choose_review_threshold(result, [CV, CV], 0.95)


def _cv_of(oof: list[PredictionResult]) -> CrossValidation:
    return CrossValidation(algorithm="x", folds=2, fold_f1=[1.0], mean_f1=1.0, sd_f1=0.0, oof=oof, fit_seconds=[0.0])


def test_review_threshold_is_chosen_on_the_fair_sample_when_it_is_large_enough():
    # Items labelled because a model was unsure: confidently wrong out of fold.
    hard = [PredictionResult(tag=NLP, probabilities={NLP: 0.95, CV: 0.05}, confidence=0.95)] * 80
    # Imported or audited items, labelled whatever the confidence: right at 0.6.
    fair = [PredictionResult(tag=CV, probabilities={CV: 0.6, NLP: 0.4}, confidence=0.6)] * 120
    result, labels = _cv_of(hard + fair), [CV] * 200
    flags = [False] * 80 + [True] * 120
    on_all = choose_review_threshold(result, labels, 0.95)
    assert on_all["threshold"] is None and on_all["sample"] == "all"  # everything would go to people
    on_fair = choose_review_threshold(result, labels, 0.95, fair=flags)
    assert (on_fair["threshold"], on_fair["sample"], on_fair["sample_size"]) == (0.6, "fair", 120)
    too_few = [False] * 101 + [True] * 99
    assert choose_review_threshold(result, labels, 0.95, fair=too_few)["sample"] == "all"
    with pytest.raises(ValueError, match="199 fair-sample flags for 200 labels"):
        choose_review_threshold(result, labels, 0.95, fair=flags[1:])


def noisy_toy() -> tuple[list[str], list[str]]:
    """toy(12) with a few shared words, so probabilities are not all alike."""
    texts, labels = toy(12)
    return [f"{text} {WORDS[CV].split()[i % 4]}" if i % 5 == 0 else text for i, text in enumerate(texts)], labels


def test_threads_give_the_same_out_of_fold_predictions_as_one_thread():
    texts, labels = noisy_toy()
    one = cross_validate(texts=texts, labels=labels, algorithm="tfidf-linear", folds=5, random_state=2)
    two = cross_validate(texts=texts, labels=labels, algorithm="tfidf-linear", folds=5, random_state=2, n_jobs=2)
    assert [r.tag for r in two.oof] == [r.tag for r in one.oof]
    assert two.fold_f1 == one.fold_f1 and two.mean_f1 == one.mean_f1
    # Within liblinear's tolerance: overlapping fits share its random generator (see cross_validate).
    for threaded, sequential in zip(two.oof, one.oof):
        assert threaded.probabilities == pytest.approx(sequential.probabilities, abs=1e-4)


def test_the_fits_run_side_by_side_and_progress_stays_on_the_calling_thread(monkeypatch):
    import threading

    import ml.selection
    from ml.training import train_model

    # Each fit waits until another one is running too: a sequential run would break the barrier.
    together = threading.Barrier(2, timeout=30)
    fitting_threads = set()

    def fit_beside_another(**kwargs):
        fitting_threads.add(threading.get_ident())
        together.wait()
        return train_model(**kwargs)

    monkeypatch.setattr(ml.selection, "train_model", fit_beside_another)
    progress_threads = set()
    texts, labels = toy(4)
    result = cross_validate(
        texts=texts,
        labels=labels,
        algorithm="tfidf-linear",
        folds=3,
        refit=True,
        n_jobs=2,
        progress=lambda percent, stage: progress_threads.add(threading.get_ident()),
    )
    assert len(fitting_threads) == 2 and threading.get_ident() not in fitting_threads
    assert progress_threads == {threading.get_ident()}
    assert len(result.oof) == len(texts) and result.model is not None


def test_refit_returns_the_algorithm_fitted_on_all_the_data():
    import numpy as np

    from ml.training import train_model

    texts, labels = noisy_toy()
    result = cross_validate(
        texts=texts, labels=labels, algorithm="tfidf-linear", folds=3, random_state=4, refit=True, n_jobs=2
    )
    alone = train_model(texts=texts, labels=labels, algorithm="tfidf-linear", random_state=4)
    probe = texts[:6] + ["docker images of a camera server"]
    assert list(result.model.classes_) == list(alone.classes_)
    assert np.allclose(result.model.predict_proba(probe), alone.predict_proba(probe), atol=1e-4)
    assert cross_validate(texts=texts, labels=labels, algorithm="majority", folds=3).model is None


def _cross_validate_in_child(queue):
    texts, labels = noisy_toy()
    result = cross_validate(texts=texts, labels=labels, algorithm="tfidf-linear", folds=3, n_jobs=2, refit=True)
    queue.put([r.tag for r in result.oof])


def test_threads_work_in_a_daemonic_process_like_a_celery_prefork_child():
    import multiprocessing

    # A daemonic process may not start processes of its own; threads it may.
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_cross_validate_in_child, args=(queue,), daemon=True)
    child.start()
    tags = queue.get(timeout=120)
    child.join(timeout=30)
    assert child.exitcode == 0 and len(tags) == len(noisy_toy()[1])
