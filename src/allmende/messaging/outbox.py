"""Writing to and claiming from the outbox (the caller owns the transaction)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, inspect, select, update
from sqlalchemy.orm import Session, aliased

from allmende.messaging.records import OutboxRecord
from allmende.store.base import table_of

OUTBOX = table_of(OutboxRecord)  # Core updates: no ORM session synchronisation on the hot path
_INSERT = insert(OUTBOX).returning(OUTBOX.c.id)
_RECORDS = inspect(OutboxRecord).class_manager
_STATUS = select(OUTBOX.c.status).where(OUTBOX.c.id == bindparam("record_id"))
PENDING, SENT, FAILED = "pending", "sent", "failed"


def enqueue(
    session: Session,
    *,
    process_id: str,
    kind: str,
    url: str,
    audience_did: str,
    body: dict[str, Any],
    now: datetime,
    deadline_seconds: float,
    token_claims: dict[str, Any] | None = None,
    claimed_for: float = 0.0,
) -> OutboxRecord:
    """Queue a message in the caller's transaction; it is sent only if that transaction commits.

    ``claimed_for`` > 0 writes it already claimed by the enqueuing sender for that many seconds
    (it is handed over in memory after the commit; see ``OutboxSender.handoff``).
    """
    values: dict[str, Any] = {
        "process_id": process_id,
        "kind": kind,
        "url": url,
        "audience_did": audience_did,
        "body": body,
        "token_claims": token_claims,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now + timedelta(seconds=claimed_for),
        "deadline_at": now + timedelta(seconds=deadline_seconds),
        "last_error": None,
        "created_at": now,
        "sent_at": None,
    }
    # Core, on the session's connection: no ORM bookkeeping for a row this transaction never reads back.
    values["id"] = session.connection().execute(_INSERT, values).scalar_one()  # the hand-off needs the id
    record: OutboxRecord = _RECORDS.new_instance()  # as the ORM's loader builds objects, without __init__
    record.__dict__.update(values)
    return record


def release_claims(session: Session, now: datetime, record_ids: list[int] | None = None) -> None:
    """Make pending messages due now (all of them, or ``record_ids``), e.g. when a claim is given up."""
    query = update(OUTBOX).where(OUTBOX.c.status == PENDING, OUTBOX.c.next_attempt_at > now)
    if record_ids is not None:
        query = query.where(OUTBOX.c.id.in_(record_ids))
    session.execute(query.values(next_attempt_at=now))


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> float:
    """Exponential back-off with ±20 % jitter: base, 2·base, 4·base, ... capped at ``max_seconds``."""
    delay = min(max_seconds, base_seconds * (2 ** max(0, attempts - 1)))
    return float(delay * random.uniform(0.8, 1.2))


def claim_due(session: Session, *, now: datetime, limit: int, lease_seconds: float) -> list[OutboxRecord]:
    """Claim up to ``limit`` due messages, only the oldest pending one of each process (order kept).

    Claimed rows get ``next_attempt_at`` pushed by the lease, so another worker (PostgreSQL,
    ``SKIP LOCKED``) or a later loop does not send them twice while this one is in flight.
    """
    older = aliased(OutboxRecord)
    earlier_pending = (
        select(func.count())
        .select_from(older)
        .where(
            and_(
                older.process_id == OutboxRecord.process_id,
                older.status == PENDING,
                older.id < OutboxRecord.id,
            )
        )
        .scalar_subquery()
    )
    query = (
        select(OutboxRecord)
        .where(OutboxRecord.status == PENDING, OutboxRecord.next_attempt_at <= now, earlier_pending == 0)
        .order_by(OutboxRecord.next_attempt_at, OutboxRecord.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxRecord)
    records = list(session.execute(query).scalars())
    if records:
        session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_([r.id for r in records]))
            .values(next_attempt_at=now + timedelta(seconds=lease_seconds))
        )
    return records


def next_due(session: Session) -> datetime | None:
    """When the next pending message is due (None when nothing is pending)."""
    value: datetime | None = session.execute(
        select(func.min(OutboxRecord.next_attempt_at)).where(OutboxRecord.status == PENDING)
    ).scalar()
    return value


def is_pending(session: Session, record_id: int) -> bool:
    """Whether the message still waits to be sent."""
    return bool(session.connection().execute(_STATUS, {"record_id": record_id}).scalar() == PENDING)


_MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("record_id"))
    .values(status=SENT, sent_at=bindparam("sent_at"), last_error=None)
)


def mark_sent(session: Session, record_id: int, now: datetime) -> None:
    """Record a successful delivery."""
    session.connection().execute(_MARK_SENT, {"record_id": record_id, "sent_at": now})


def mark_retry(session: Session, record_id: int, *, attempts: int, error: str, next_at: datetime) -> None:
    """Record a failed attempt and when to try again."""
    session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == record_id)
        .values(attempts=attempts, last_error=error[:2000], next_attempt_at=next_at)
    )


def mark_failed(session: Session, record_id: int, *, attempts: int, error: str) -> None:
    """Give a message up for good (rejected by the peer or past its deadline)."""
    session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == record_id)
        .values(status=FAILED, attempts=attempts, last_error=error[:2000])
    )


def cancel_pending(session: Session, process_id: str, reason: str) -> int:
    """Drop the pending messages of a process (e.g. after it was terminated); returns how many."""
    result = session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.process_id == process_id, OUTBOX.c.status == PENDING)
        .values(status=FAILED, last_error=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)
