"""Appending to and verifying the audit log inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from allmende.audit.chain import GENESIS_HASH, AuditEntry, ChainProblem, entry_hash, verify_chain
from allmende.audit.records import AuditRecord
from allmende.clock import utcnow
from allmende.store.base import table_of

AUDIT = table_of(AuditRecord)
_INSERT = insert(AUDIT)
_LAST = select(AUDIT.c.seq, AUDIT.c.entry_hash).order_by(AUDIT.c.seq.desc()).limit(1)
_TAIL = "allmende_audit_tail"
_PG_AUDIT_LOCK = 0x416C6D64  # any constant; serialises appends across PostgreSQL workers


def append(
    session: Session,
    *,
    actor: str,
    event: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    message_digest: str | None = None,
) -> AuditEntry:
    """Append one entry, chained to the last one, in the caller's transaction; the entry appended."""
    # The chain's end is read once per transaction (under the writer lock on SQLite, an advisory lock
    # on PostgreSQL) and then kept in the session, so several entries of one transaction cost one query.
    tail: tuple[int, str] | None = session.info.get(_TAIL)
    if tail is None:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
        last = session.execute(_LAST).first()
        tail = (last[0], last[1]) if last else (0, GENESIS_HASH)
    entry = AuditEntry(
        seq=tail[0] + 1,
        at=utcnow(),
        actor=actor,
        event=event,
        subject=subject,
        detail=detail or {},
        message_digest=message_digest,
        prev_hash=tail[1],
    )
    digest = entry_hash(entry)
    # A plain insert (no ORM object: every protocol message appends entries, and building an
    # instrumented record cost more than the insert).
    row = {
        "seq": entry.seq,
        "at": entry.at,
        "actor": actor,
        "event": event,
        "subject": subject,
        "detail": entry.detail,
        "message_digest": message_digest,
        "prev_hash": entry.prev_hash,
        "entry_hash": digest,
    }
    session.execute(_INSERT, row)
    session.info[_TAIL] = (entry.seq, digest)
    return entry


def as_entry(record: AuditRecord) -> AuditEntry:
    """The hashed view of a stored record."""
    return AuditEntry(
        seq=record.seq,
        at=record.at,
        actor=record.actor,
        event=record.event,
        subject=record.subject,
        detail=record.detail,
        message_digest=record.message_digest,
        prev_hash=record.prev_hash,
    )


@dataclass(frozen=True)
class VerifyReport:
    """Result of checking the whole chain."""

    entries: int
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, batch: int = 5000) -> VerifyReport:
    """Walk the whole log in ``seq`` order and verify every hash and link."""
    count = 0

    def stream() -> Any:
        nonlocal count
        result = session.execute(
            select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=batch)
        )
        for record in result.scalars():
            count += 1
            yield as_entry(record), record.entry_hash

    problems = verify_chain(stream())
    return VerifyReport(entries=count, problems=problems)
