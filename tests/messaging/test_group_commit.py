"""Group commit: deliveries that finish while one is being recorded are recorded together."""

from __future__ import annotations

import asyncio
import threading

import pytest

from allmende.messaging.group_commit import GroupCommit

pytestmark = pytest.mark.anyio


async def test_a_lone_item_is_recorded_at_once_and_concurrent_ones_share_batches() -> None:
    batches: list[list[int]] = []
    gate = threading.Event()

    def record(items: list[int]) -> list[bool]:
        if not batches:
            gate.wait(5)  # the first batch is slow: everything else queues up meanwhile
        batches.append(items)
        return [item % 2 == 0 for item in items]

    group: GroupCommit[int] = GroupCommit(record)
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0.05)
    others = [asyncio.create_task(group.submit(n)) for n in range(1, 6)]
    await asyncio.sleep(0.05)
    gate.set()
    assert await first is True
    assert [await task for task in others] == [False, True, False, True, False]
    assert batches == [[0], [1, 2, 3, 4, 5]]
    assert await group.submit(6) is True
    assert batches[-1] == [6]


async def test_a_failing_batch_fails_each_of_its_items_and_the_next_batch_runs() -> None:
    gate = threading.Event()
    calls: list[list[str]] = []

    def record(items: list[str]) -> list[bool]:
        calls.append(items)
        if items == ["slow"]:
            gate.wait(5)
            return [True]
        if "bad" in items:
            raise RuntimeError("handler bug")
        return [True] * len(items)

    group: GroupCommit[str] = GroupCommit(record)
    slow = asyncio.create_task(group.submit("slow"))
    await asyncio.sleep(0.05)
    failing = [asyncio.create_task(group.submit(name)) for name in ("good", "bad")]
    await asyncio.sleep(0.05)
    gate.set()
    assert await slow is True
    for task in failing:
        with pytest.raises(RuntimeError, match="handler bug"):
            await task
    assert await group.submit("later") is True
    assert calls == [["slow"], ["good", "bad"], ["later"]]


async def test_a_cancelled_waiter_passes_the_next_batch_on() -> None:
    gate = threading.Event()
    batches: list[list[str]] = []

    def record(items: list[str]) -> list[bool]:
        if items == ["first"]:
            gate.wait(5)
        batches.append(items)
        return [True] * len(items)

    group: GroupCommit[str] = GroupCommit(record)
    first = asyncio.create_task(group.submit("first"))
    await asyncio.sleep(0.05)
    leaving = asyncio.create_task(group.submit("leaving"))
    staying = asyncio.create_task(group.submit("staying"))
    await asyncio.sleep(0.05)
    leaving.cancel()
    await asyncio.sleep(0)
    gate.set()
    assert await first is True
    assert await asyncio.wait_for(staying, 5) is True
    assert leaving.cancelled()
    assert batches == [["first"], ["staying"]]
