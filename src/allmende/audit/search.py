"""Looking through the audit log: filters, newest first, page by page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from allmende.audit.records import AuditRecord


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show; empty fields do not filter. Texts match any part, in any case."""

    event: str = ""
    subject: str = ""
    actor: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditPage:
    """Entries newest first; ``older`` is the ``before`` value of the next page (None: no more)."""

    entries: list[AuditRecord]
    older: int | None


def _filtered(query: Select[AuditRecord], wanted: AuditFilter) -> Select[AuditRecord]:
    if wanted.event:
        query = query.where(AuditRecord.event == wanted.event)
    if wanted.subject:
        query = query.where(func.lower(AuditRecord.subject).contains(wanted.subject.lower(), autoescape=True))
    if wanted.actor:
        query = query.where(func.lower(AuditRecord.actor).contains(wanted.actor.lower(), autoescape=True))
    if wanted.since is not None:
        query = query.where(AuditRecord.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditRecord.at < wanted.until)
    return query


def search(session: Session, wanted: AuditFilter, *, before: int | None = None, limit: int = 50) -> AuditPage:
    """Up to ``limit`` entries matching ``wanted`` with ``seq`` below ``before``, newest first."""
    query = _filtered(select(AuditRecord), wanted)
    if before is not None:
        query = query.where(AuditRecord.seq < before)
    rows = list(session.execute(query.order_by(AuditRecord.seq.desc()).limit(limit + 1)).scalars())
    older = rows[limit - 1].seq if len(rows) > limit else None
    return AuditPage(entries=rows[:limit], older=older)


def event_names(session: Session) -> list[str]:
    """Every event type the log holds, sorted."""
    return list(session.execute(select(AuditRecord.event).distinct().order_by(AuditRecord.event)).scalars())
