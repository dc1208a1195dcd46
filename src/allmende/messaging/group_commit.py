"""Group commit: the outcomes of many deliveries recorded in one write transaction.

Recording a delivered message is one small UPDATE (plus, for some kinds, a small change of the
domain record), but a write transaction of its own costs several times that on SQLite (session,
``BEGIN IMMEDIATE``, commit). :class:`GroupCommit` lets deliveries that finish while a recording
transaction runs wait for it and then go together into the next one. Nothing waits on a timer: a
lone delivery is recorded at once, exactly as before; under load the batches grow by themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


class _Entry(Generic[T]):
    __slots__ = ("done", "item", "lead", "result")

    def __init__(self, item: T, done: asyncio.Future[None]) -> None:
        self.item = item
        self.done = done
        self.lead = False  # set when this entry's caller is to run the next batch
        self.result: bool | BaseException = False


class GroupCommit(Generic[T]):
    """Runs ``record(items) -> [bool per item]`` on a worker thread, one batch at a time.

    ``record`` must be all-or-nothing for its batch (one transaction). The caller that finds no batch
    running runs one (with everything queued so far); the others wait, and when a batch ends the
    first of them runs the next. A failing batch fails every entry in it with the same exception.
    """

    def __init__(self, record: Callable[[list[T]], list[bool]]) -> None:
        self._record = record
        self._queue: list[_Entry[T]] = []
        self._busy = False

    async def submit(self, item: T) -> bool:
        """Record ``item`` (in a batch) and return its result; raises what the batch raised."""
        entry = _Entry(item, asyncio.get_running_loop().create_future())
        self._queue.append(entry)
        if self._busy:
            try:
                await entry.done
            except asyncio.CancelledError:
                if entry in self._queue:  # not taken into a batch: it is not recorded
                    self._queue.remove(entry)
                if entry.lead:
                    self._hand_over()
                raise
            if not entry.lead:
                return self._outcome(entry)
        self._busy = True
        batch, self._queue = self._queue, []
        try:
            results = await anyio.to_thread.run_sync(self._record, [e.item for e in batch])
            for queued, result in zip(batch, results, strict=True):
                queued.result = result
        except BaseException as exc:
            for queued in batch:
                queued.result = exc
            raise
        finally:
            for queued in batch:
                if not queued.done.done():
                    queued.done.set_result(None)
            self._hand_over()
        return self._outcome(entry)

    def _hand_over(self) -> None:
        """The running batch ended: the first waiting caller (if any) runs the next one."""
        self._busy = False
        if self._queue:
            following = self._queue[0]
            following.lead = True
            self._busy = True
            if not following.done.done():
                following.done.set_result(None)

    @staticmethod
    def _outcome(entry: _Entry[T]) -> bool:
        if isinstance(entry.result, BaseException):
            raise entry.result
        return entry.result
