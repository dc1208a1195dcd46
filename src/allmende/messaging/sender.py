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
from collections import deque
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
from allmende.messaging.group_commit import GroupCommit
from allmende.messaging.peer_transport import PeerClient
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


@dataclass
class _Delivery:
    """A successful delivery to record, and the message queued behind it (checked in the same transaction)."""

    record: OutboxRecord
    outcome: Outcome
    next_id: int | None = None
    next_pending: bool | None = None


TokenFactory = Callable[[str, Mapping[str, Any] | None], str]

Outcome = tuple[int | None, Any, str]
"""(HTTP status or None when unreachable, parsed answer, error text) of one attempt."""


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
        client: PeerClient,
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
        # Messages handed over right after their commit, per process: the head is in flight.
        self._chains: dict[str, deque[OutboxRecord]] = {}
        self._delivered: GroupCommit[_Delivery] = GroupCommit(self._record_delivered)

    @property
    def running(self) -> bool:
        """True while :meth:`run` is active in an event loop."""
        return self._loop is not None

    def handoff_lease(self) -> float:
        """Seconds a freshly queued message stays claimed by this sender (0: not running, no hand-off).

        A message queued while the sender runs is written already claimed for this long and handed
        over in memory after the commit (:meth:`handoff`), so it is sent at once without a claim
        query. Should this process die first, the claim expires and any sender picks it up.
        """
        return self._config.lease_seconds if self.running else 0.0

    def handoff(self, record: OutboxRecord) -> None:
        """Send a just-committed, already claimed message (safe to call from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._accept, record)

    def wake(self) -> None:
        """Signal that new messages were committed (safe to call from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, *, release_claims: bool = False) -> None:
        """Deliver until cancelled.

        ``release_claims`` (single-process SQLite nodes): claims left by a previous run of this
        node are released at once, so a restart resumes without waiting for them to expire.
        """
        self._loop = asyncio.get_running_loop()
        if release_claims:
            await anyio.to_thread.run_sync(self._release_claims)
        try:
            while True:
                claimed = await anyio.to_thread.run_sync(self._claim)
                for record in claimed:
                    self._accept(record)
                if len(claimed) >= self._config.concurrency:
                    continue
                wait = await anyio.to_thread.run_sync(self._seconds_until_due)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
        finally:
            self._loop = None
            self._chains.clear()
            for task in list(self._in_flight):
                task.cancel()

    def _accept(self, record: OutboxRecord) -> None:
        chain = self._chains.get(record.process_id)
        if chain is not None:
            if all(queued.id != record.id for queued in chain):
                chain.append(record)  # sent when the ones before it are delivered
            return
        self._chains[record.process_id] = deque([record])
        self._start(record)

    def _start(self, record: OutboxRecord, *, follower: bool = False, pending: bool | None = None) -> None:
        task = asyncio.create_task(self._deliver(record, follower=follower, pending=pending))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    def _release_claims(self) -> None:
        with self._db.transaction() as session:
            outbox.release_claims(session, utcnow())

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

    async def _deliver(
        self, record: OutboxRecord, *, follower: bool = False, pending: bool | None = None
    ) -> None:
        """Send ``record``; then start the next message of its process, or give the chain back.

        A follower (queued behind another message of its process) may have been cancelled meanwhile
        (superseded by a termination): ``pending`` says whether it still is, as checked in the
        transaction that recorded the delivery before it; None means not checked yet.
        """
        delivered = False
        checked: _Delivery | None = None
        async with self._limiter:
            try:
                if follower and pending is None:
                    pending = await anyio.to_thread.run_sync(self._still_pending, record.id)
                if follower and not pending:
                    delivered = True  # cancelled meanwhile (superseded by a termination): go on to the next
                else:
                    outcome = await self._post(record)
                    if outcome[0] is not None and 200 <= outcome[0] < 300:
                        checked = _Delivery(record, outcome)
                        delivered = await self._delivered.submit(checked)
                    else:
                        delivered = await anyio.to_thread.run_sync(self._settle, record, outcome)
            except Exception:  # a handler bug must not kill the sender; the claim expires, it is retried
                log.exception("delivering outbox message %s failed", record.id)
        chain = self._chains.get(record.process_id)
        if chain is None:
            return
        if chain and chain[0].id == record.id:
            chain.popleft()
        if delivered and chain:
            known = checked is not None and checked.next_id == chain[0].id
            self._start(chain[0], follower=True, pending=checked.next_pending if checked and known else None)
            return
        del self._chains[record.process_id]
        if chain:  # not delivered: the followers wait in the database, in order, for the retry
            followers = [queued.id for queued in chain]
            await anyio.to_thread.run_sync(self._release, followers)
            self.wake()

    def _next_in_chain(self, record: OutboxRecord) -> int | None:
        """The id of the message queued right behind ``record`` for its process, if any yet.

        Called from the recording transaction's worker thread while ``record`` heads its chain: the
        event loop only appends to that chain meanwhile (each a single atomic operation), and what
        it appended was committed before, so the transaction sees its row.
        """
        chain = self._chains.get(record.process_id)
        if chain is None or len(chain) < 2 or chain[0].id != record.id:
            return None
        return chain[1].id

    def _still_pending(self, record_id: int) -> bool:
        with self._db.read() as session:
            return outbox.is_pending(session, record_id)

    def _release(self, record_ids: list[int]) -> None:
        with self._db.transaction() as session:
            outbox.release_claims(session, utcnow(), record_ids)

    async def _post(self, record: OutboxRecord) -> Outcome:
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

    def _record_delivered(self, items: list[_Delivery]) -> list[bool]:
        """Record delivered messages in one transaction; should it fail, each in its own (True: recorded)."""
        try:
            with self._db.transaction() as session:
                for item in items:
                    self._mark_delivered(session, item)
            return [True] * len(items)
        except Exception:
            if len(items) == 1:
                raise
        results: list[bool] = []
        for item in items:
            try:
                with self._db.transaction() as session:
                    self._mark_delivered(session, item)
                results.append(True)
            except Exception:
                log.exception("recording the delivery of outbox message %s failed", item.record.id)
                results.append(False)
        return results

    def _mark_delivered(self, session: Session, item: _Delivery) -> None:
        """Record one delivery, and whether the message queued behind it is still pending."""
        record, (status, body, _error) = item.record, item.outcome
        outbox.mark_sent(session, record.id, utcnow())
        handler = self._handlers.get(record.kind.split(":", 1)[0])
        if handler is not None and status is not None:
            handler.delivered(session, SentMessage(record.process_id, record.kind, status, body))
        # Looked up now rather than when the delivery finished: the answer to a request often comes
        # back before the message it causes is queued (and committed) behind it.
        item.next_id = self._next_in_chain(record)
        if item.next_id is not None:
            item.next_pending = outbox.is_pending(session, item.next_id)

    def _settle(self, record: OutboxRecord, outcome: Outcome) -> bool:
        """Record the outcome; True when the message was delivered."""
        status, _body, error = outcome
        handler = self._handlers.get(record.kind.split(":", 1)[0])
        now = utcnow()
        attempts = record.attempts + 1
        with self._db.transaction() as session:
            if status is not None and 200 <= status < 300:
                self._mark_delivered(session, _Delivery(record, outcome))
                return True
            retryable = status is None or status >= 500 or status in RETRYABLE_STATUS
            if not retryable:
                outbox.mark_failed(session, record.id, attempts=attempts, error=error)
                if handler is not None:
                    handler.given_up(
                        session, record.process_id, record.kind, f"peer rejected the message: {error}"
                    )
                return False
            delay = outbox.retry_delay(attempts, self._config.retry_seconds, self._config.max_retry_seconds)
            next_at = now + timedelta(seconds=delay)
            if next_at > record.deadline_at:
                outbox.mark_failed(session, record.id, attempts=attempts, error=error)
                if handler is not None:
                    reason = f"peer unreachable until the deadline ({attempts} attempts; last: {error})"
                    handler.given_up(session, record.process_id, record.kind, reason)
                return False
            outbox.mark_retry(session, record.id, attempts=attempts, error=error, next_at=next_at)
        self.wake()  # the retry is due later: let the loop plan for it
        return False
