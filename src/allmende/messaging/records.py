"""The outbox: every message to a peer, written in the same transaction as the state change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class OutboxRecord(Base):
    """One outgoing protocol message and its delivery state."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(80), index=True)  # our negotiation/transfer id
    kind: Mapped[str] = mapped_column(String(60))  # DSP message @type
    url: Mapped[str] = mapped_column(String(1000))
    audience_did: Mapped[str] = mapped_column(String(500))
    body: Mapped[dict[str, Any]]
    token_claims: Mapped[dict[str, Any] | None]  # extra claims for the self-issued token
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
