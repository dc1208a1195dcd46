"""The audit log table: append-only, each entry chained to the previous by hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class AuditRecord(Base):
    """One audit entry. ``entry_hash`` = sha-256 over the canonical entry including ``prev_hash``."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(500))
    event: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    detail: Mapped[dict[str, Any]]
    message_digest: Mapped[str | None] = mapped_column(String(100))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
