"""Moving the rounds this node organises along: at once when a step can be taken, and on a timer.

The runtime lives in ``app.state.benchmarks``. A protocol route that makes progress possible (the last
participant reported its shares) calls :meth:`BenchmarkRuntime.kick`; the timer loop (started with the
app's lifespan) catches deadlines and windows, and resumes unfinished rounds after a restart. Rounds
are advanced one at a time per round; ``organiser.advance`` re-reads the state in each transaction, so
two processes advancing the same round do nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from allmende.benchmarking import organiser
from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.records import BenchmarkRoundRecord
from allmende.benchmarking.states import RoundState
from allmende.protocol.endpoint import in_read

if TYPE_CHECKING:
    from allmende.node import Node

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
_ACTIVE = (RoundState.OPEN, RoundState.SHARING, RoundState.SUMMING)


class BenchmarkRuntime:
    """Advances this node's rounds: on demand (:meth:`kick`) and every ``TICK_SECONDS`` once started."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: asyncio.Task[None] | None = None

    def kick(self, round_id: str) -> None:
        """Advance ``round_id`` soon, in the background (call from the event loop)."""
        task = asyncio.create_task(self._advance_quietly(round_id), name=f"benchmark {round_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def advance(self, round_id: str) -> str:
        """Advance one round now (one at a time per round); its state afterwards."""
        lock = self._locks.setdefault(round_id, asyncio.Lock())
        async with lock:
            return await organiser.advance(self.node, round_id)

    async def tick(self) -> None:
        """Advance every unfinished round once."""
        query = select(BenchmarkRoundRecord.id).where(BenchmarkRoundRecord.state.in_(_ACTIVE))
        round_ids = await in_read(self.node, lambda s: list(s.execute(query).scalars()))
        for round_id in round_ids:
            await self._advance_quietly(round_id)

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait for the rounds kicked so far (tests, shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    def start(self) -> None:
        """Start the timer loop (idempotent)."""
        if self._timer is None:
            self._timer = asyncio.create_task(self._run(), name=f"benchmark-timer {self.node.did}")

    async def stop(self) -> None:
        """Stop the timer loop and the rounds in progress (they resume after a restart)."""
        tasks = [*self._tasks, *([self._timer] if self._timer else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._timer = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # one failed tick must not end the loop (logged below)
                await self.tick()
            await asyncio.sleep(TICK_SECONDS)

    async def _advance_quietly(self, round_id: str) -> None:
        try:
            await self.advance(round_id)
        except BenchmarkError as error:
            log.info("benchmark round %s not advanced: %s", round_id, error.message)
        except Exception:
            log.exception("advancing benchmark round %s failed", round_id)
