"""The background sender: delivers outbox messages with retries, back-off and a deadline.

It wakes when a transaction queued a message (:meth:`OutboxSender.wake`) or when the next
retry is due. Each message is signed with a fresh self-issued token at send time. The result
goes back to the domain that queued it (a :class:`DeliveryHandler`), in a new transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import anyio
import httpx
from sqlalchemy.orm import Session

from allmende.canonical import content_digest
from allmende.clock import utcnow
from allmende.messaging import outbox
from allmende.messaging.records import OutboxRecord
from allmende.store.database import Database

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({401, 408, 425, 429})


@dataclass(frozen=True)
class SentMessage:
    """What the handler learns about a delivered message."""

    process_id: str
    kind: str
    status_code: int
    body: Any  # parsed JSON of the answer, or None


class DeliveryHandler(Protocol):
    """What a domain does once its message was delivered or given up (runs in a transaction)."""

    def delivered(self, session: Session, message: SentMessage) -> None: ...

    def given_up(self, session: Session, process_id: str, kind: str, reason: str) -> None: ...


TokenFactory = Callable[[str, Mapping[str, Any] | None], str]


@dataclass
class SenderConfig:
    """Tuning of the sender (from the node's settings)."""

    retry_seconds: float = 1.0
    max_retry_seconds: float = 300.0
    concurrency: int = 32
    lease_seconds: float = 60.0
    idle_poll_seconds: float = 5.0


class OutboxSender:
    """Delivers queued messages; one per process at a time, in order."""

    def __init__(
        self,
        database: Database,
        client: httpx.AsyncClient,
        token_factory: TokenFactory,
        handlers: Mapping[str, DeliveryHandler],
        config: SenderConfig | None = None,
    ) -> None:
        self._db = database
        self._client = client
        self._token = token_factory
        self._handlers = handlers
        self._config = config or SenderConfig()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._limiter = asyncio.Semaphore(self._config.concurrency)

    def wake(self) -> None:
        """Signal that new messages were committed (safe to call from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Deliver until cancelled."""
        self._loop = asyncio.get_running_loop()
        try:
            while True:
                claimed = await anyio.to_thread.run_sync(self._claim)
                for record in claimed:
                    await self._limiter.acquire()
                    task = asyncio.create_task(self._deliver(record))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
                if len(claimed) >= self._config.concurrency:
                    continue
                wait = await anyio.to_thread.run_sync(self._seconds_until_due)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
        finally:
            for task in list(self._in_flight):
                task.cancel()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until the in-flight deliveries are done (used at shutdown and in tests)."""
        if self._in_flight:
            await asyncio.wait(list(self._in_flight), timeout=timeout)

    def _claim(self) -> list[OutboxRecord]:
        with self._db.transaction() as session:
            return outbox.claim_due(
                session,
                now=utcnow(),
                limit=self._config.concurrency,
                lease_seconds=self._config.lease_seconds,
            )

    def _seconds_until_due(self) -> float:
        with self._db.read() as session:
            due = outbox.next_due(session)
        if due is None:
            return self._config.idle_poll_seconds
        return max(0.0, min(self._config.idle_poll_seconds, (due - utcnow()).total_seconds()))

    async def _deliver(self, record: OutboxRecord) -> None:
        try:
            outcome = await self._post(record)
            await anyio.to_thread.run_sync(self._settle, record, outcome)
        except Exception:  # a handler bug must not kill the sender; the message is retried
            log.exception("delivering outbox message %s failed", record.id)
        finally:
            self._limiter.release()
        self.wake()  # the next message of the same process may now be due

    async def _post(self, record: OutboxRecord) -> tuple[int | None, Any, str]:
        payload = json.dumps(record.body, separators=(",", ":")).encode("utf-8")
        headers = {
            "Authorization": "Bearer " + self._token(record.audience_did, record.token_claims),
            "Content-Type": "application/json",
            "Content-Digest": content_digest(payload),
        }
        try:
            response = await self._client.post(record.url, content=payload, headers=headers)
        except httpx.HTTPError as exc:
            return None, None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        return response.status_code, body, f"HTTP {response.status_code}: {response.text[:500]}"

    def _settle(self, record: OutboxRecord, outcome: tuple[int | None, Any, str]) -> None:
        status, body, error = outcome
        handler = self._handlers.get(record.kind.split(":", 1)[0])
        now = utcnow()
        attempts = record.attempts + 1
        with self._db.transaction() as session:
            if status is not None and 200 <= status < 300:
                outbox.mark_sent(session, record.id, now)
                if handler is not None:
                    handler.delivered(session, SentMessage(record.process_id, record.kind, status, body))
                return
            retryable = status is None or status >= 500 or status in RETRYABLE_STATUS
            if not retryable:
                outbox.mark_failed(session, record.id, attempts=attempts, error=error)
                if handler is not None:
                    handler.given_up(
                        session, record.process_id, record.kind, f"peer rejected the message: {error}"
                    )
                return
            delay = outbox.retry_delay(attempts, self._config.retry_seconds, self._config.max_retry_seconds)
            next_at = now + timedelta(seconds=delay)
            if next_at > record.deadline_at:
                outbox.mark_failed(session, record.id, attempts=attempts, error=error)
                if handler is not None:
                    reason = f"peer unreachable until the deadline ({attempts} attempts; last: {error})"
                    handler.given_up(session, record.process_id, record.kind, reason)
                return
            outbox.mark_retry(session, record.id, attempts=attempts, error=error, next_at=next_at)
