"""Micro-batching: concurrent callers' items run as one call, and each caller gets exactly its own rows."""

import threading
import time

import numpy as np
import pytest

from ml.batching import MicroBatcher
from ml.compiled import compile_pipeline
from ml.embeddings import clear_embedding_cache, embedding_cache_disabled
from ml.text import prepare_text
from ml.training import train_model
from tests.tiny_dataset import LABELS, TEXTS


class Recorder:
    """A batch function (item i -> row [i, 2i]) that records each call and can hold the first one."""

    def __init__(self, hold_first: threading.Event | None = None):
        self.calls: list[list[int]] = []
        self.hold_first = hold_first
        self.first_started = threading.Event()

    def __call__(self, items):
        self.calls.append(list(items))
        if len(self.calls) == 1 and self.hold_first is not None:
            self.first_started.set()
            self.hold_first.wait(5)
        return np.array([[item, 2 * item] for item in items], dtype=float).reshape(len(items), 2)


def _in_threads(batcher, groups):
    results: dict[int, np.ndarray] = {}

    def run(index, items):
        results[index] = batcher(items)

    threads = [threading.Thread(target=run, args=(i, items)) for i, items in enumerate(groups)]
    for thread in threads:
        thread.start()
    return threads, results


def _wait_queued(batcher, count):
    deadline = time.monotonic() + 5
    while batcher._queued_items() < count and time.monotonic() < deadline:
        time.sleep(0.001)


def test_calls_arriving_during_a_batch_form_the_next_batch_and_get_their_own_rows():
    release = threading.Event()
    recorder = Recorder(hold_first=release)
    batcher = MicroBatcher(recorder, max_items=16)
    first, results = _in_threads(batcher, [[100]])
    recorder.first_started.wait(5)
    groups = [[1], [2, 3], [4], [5, 6, 7]]
    others, more = _in_threads(batcher, groups)
    _wait_queued(batcher, 7)
    release.set()
    for thread in first + others:
        thread.join(5)
    assert recorder.calls[0] == [100]
    assert len(recorder.calls) == 2 and sorted(recorder.calls[1]) == [1, 2, 3, 4, 5, 6, 7]  # one call for all four
    for index, items in enumerate(groups):
        assert more[index].tolist() == [[item, 2 * item] for item in items]
    assert results[0].tolist() == [[100, 200]]


def test_a_batch_never_exceeds_max_items_and_every_call_is_answered():
    release = threading.Event()
    recorder = Recorder(hold_first=release)
    batcher = MicroBatcher(recorder, max_items=3)
    first, _ = _in_threads(batcher, [[0]])
    recorder.first_started.wait(5)
    groups = [[i] for i in range(1, 8)]
    others, results = _in_threads(batcher, groups)
    _wait_queued(batcher, 7)
    release.set()
    for thread in first + others:
        thread.join(5)
    assert all(len(call) <= 3 for call in recorder.calls)
    assert sorted(item for call in recorder.calls for item in call) == list(range(8))
    assert {index: rows.tolist() for index, rows in results.items()} == {
        index: [[items[0], 2 * items[0]]] for index, items in enumerate(groups)
    }


def test_an_error_reaches_every_caller_of_its_batch_and_the_next_batch_runs():
    release = threading.Event()
    failing = {"on": True}

    def function(items):
        if len(items) == 1 and items[0] == 0:
            release.wait(5)
            return np.zeros((1, 1))
        if failing["on"]:
            raise RuntimeError("encoder broke")
        return np.ones((len(items), 1))

    batcher = MicroBatcher(function)
    first, _ = _in_threads(batcher, [[0]])
    time.sleep(0.05)
    errors = []

    def call():
        try:
            batcher([1])
        except RuntimeError as error:
            errors.append(str(error))

    callers = [threading.Thread(target=call) for _ in range(3)]
    for thread in callers:
        thread.start()
    _wait_queued(batcher, 3)
    release.set()
    for thread in first + callers:
        thread.join(5)
    assert errors == ["encoder broke"] * 3
    failing["on"] = False
    assert batcher([5, 6]).tolist() == [[1.0], [1.0]]  # not stuck: the next caller leads


def test_one_caller_alone_never_waits_for_others():
    batcher = MicroBatcher(Recorder(), max_items=16, max_wait=0.0)
    started = time.perf_counter()
    for item in range(50):
        assert batcher([item]).tolist() == [[item, 2 * item]]
    assert time.perf_counter() - started < 1.0
    assert batcher.batches == 50


def test_a_leader_waits_at_most_max_wait_for_more_callers():
    batcher = MicroBatcher(Recorder(), max_items=16, max_wait=0.05)
    started = time.perf_counter()
    batcher([1])
    assert 0.04 <= time.perf_counter() - started < 1.0


def test_bad_settings_and_a_single_string_are_refused():
    with pytest.raises(ValueError):
        MicroBatcher(Recorder(), max_items=0)
    with pytest.raises(ValueError, match="single string"):
        MicroBatcher(Recorder())("a text")


@pytest.mark.minilm
def test_minilm_linear_answers_the_same_batched_from_threads_as_one_at_a_time():
    model = train_model(texts=[prepare_text(t, "") for t in TEXTS], labels=LABELS, algorithm="minilm-linear")
    texts = [prepare_text(f"{word} pipeline number {i}", "with a description") for i, word in enumerate("abcdefghijkl")]
    batchers = []

    def batching(encoder):
        batchers.append(MicroBatcher(encoder, max_items=16, max_wait=0.02))
        return batchers[-1]

    plain, batched = compile_pipeline(model), compile_pipeline(model, wrap_encoder=batching)
    with embedding_cache_disabled():
        expected = np.vstack([plain.predict_proba([text]) for text in texts])
        clear_embedding_cache()
        results: dict[int, np.ndarray] = {}
        barrier = threading.Barrier(len(texts))

        def serve(index):
            barrier.wait()
            results[index] = batched.predict_proba([texts[index]])

        threads = [threading.Thread(target=serve, args=(i,)) for i in range(len(texts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    actual = np.vstack([results[i] for i in range(len(texts))])
    assert np.abs(actual - expected).max() <= 1e-6
    assert batchers[0].items == len(texts) and batchers[0].batches < len(texts)  # some texts shared a batch
