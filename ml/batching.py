"""Micro-batching: concurrent calls of a batch function, made by threads of one process, run as one call.

An encoder costs much less per text in a batch of a few than one text at a time (one matrix
product instead of several small ones), and a threaded web worker receives several requests
at once.  :class:`MicroBatcher` wraps any ``list of items -> array with one row per item``
function (``ml.minilm.encode`` or any encoder with its interface): a call queues its items;
one caller at a time, the leader, runs the function on everything queued (up to
``max_items``) and hands each caller its own rows.  Calls that arrive while a batch runs form
the next batch, whose leader is the first of them, so under load batches grow by themselves
and with one caller nothing waits.  ``max_wait`` optionally holds a leader that long for more
callers (a bounded wait: it never waits when the batch is already full).

With one request per process at a time (gunicorn's sync workers) every batch is a single call
and the cost is a lock and an event, a few microseconds.
"""

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

BatchFunction = Callable[[Sequence[Any]], np.ndarray]


class _Call:
    __slots__ = ("items", "rows", "error", "done", "leads")

    def __init__(self, items: list[Any]):
        self.items = items
        self.rows: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.leads = False


class MicroBatcher:
    def __init__(self, function: BatchFunction, *, max_items: int = 16, max_wait: float = 0.0):
        if max_items < 1 or max_wait < 0:
            raise ValueError("max_items must be at least 1 and max_wait at least 0")
        self._function = function
        self._max_items = max_items
        self._max_wait = max_wait
        self._queue: deque[_Call] = deque()
        self._busy = False  # a leader is collecting or running a batch
        self._condition = threading.Condition()
        self.batches = 0  # how many times the function ran (for benchmarks and tests)
        self.items = 0

    def __call__(self, items: Sequence[Any]) -> np.ndarray:
        if isinstance(items, str):
            raise ValueError("expected a list of items, got a single string")
        call = _Call(list(items))
        with self._condition:
            self._queue.append(call)
            if not self._busy:
                self._busy = call.leads = True
            self._condition.notify_all()  # a leader holding for more callers counts again
        if not call.leads:
            call.done.wait()  # set with the rows, or to make this call the next leader
        if call.leads and call.rows is None and call.error is None:
            self._lead()
        if call.error is not None:
            raise call.error
        assert call.rows is not None
        return call.rows

    def _lead(self) -> None:
        batch = self._collect()
        try:
            rows = self._function([item for call in batch for item in call.items])
        except BaseException as error:  # noqa: BLE001 - every caller of the batch gets the error
            for call in batch:
                call.error = error
        else:
            self._hand_out(batch, rows)
        self._pass_on()
        for call in batch:
            call.done.set()

    def _collect(self) -> list[_Call]:
        """The leader's batch: calls from the front of the queue, up to max_items (at least one call)."""
        with self._condition:
            deadline = time.monotonic() + self._max_wait
            while self._queued_items() < self._max_items and (left := deadline - time.monotonic()) > 0:
                self._condition.wait(left)
            batch = [self._queue.popleft()]  # the leader's own call is always first in the queue
            size = len(batch[0].items)
            while self._queue and size + len(self._queue[0].items) <= self._max_items:
                size += len(self._queue[0].items)
                batch.append(self._queue.popleft())
            self.batches += 1
            self.items += size
        return batch

    def _hand_out(self, batch: list[_Call], rows: np.ndarray) -> None:
        start = 0
        for call in batch:
            call.rows = rows[start : start + len(call.items)]
            start += len(call.items)

    def _pass_on(self) -> None:
        """The first call still queued leads the next batch; with none, the next caller will."""
        with self._condition:
            if self._queue:
                following = self._queue[0]
                following.leads = True
                following.done.set()
            else:
                self._busy = False

    def _queued_items(self) -> int:
        return sum(len(call.items) for call in self._queue)
