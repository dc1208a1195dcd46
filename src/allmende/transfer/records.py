"""Persisted transfer processes, for both roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class TransferRecord(Base):
    """One transfer process as this node sees it (``role`` = this node's role)."""

    __tablename__ = "transfers"
    __table_args__ = (
        UniqueConstraint("role", "counterparty_did", "provider_pid", name="uq_transfers_party_provider_pid"),
        UniqueConstraint("role", "counterparty_did", "consumer_pid", name="uq_transfers_party_consumer_pid"),
        Index("ix_transfers_agreement_id", "agreement_id"),
        Index("ix_transfers_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # our own pid for this process
    role: Mapped[str] = mapped_column(String(10))
    provider_pid: Mapped[str | None] = mapped_column(String(200))
    consumer_pid: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    counterparty_did: Mapped[str] = mapped_column(String(500))
    counterparty_address: Mapped[str] = mapped_column(String(1000))
    agreement_id: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(100))
    data_address: Mapped[dict[str, Any] | None]  # pull: where the consumer pulls; push: where we push to
    received_file: Mapped[str | None] = mapped_column(String(1000))  # consumer, push: the stored file
    use_number: Mapped[int | None]  # provider: uses of the agreement before this one (ODRL count)
    bytes_served: Mapped[int] = mapped_column(BigInteger, default=0)
    termination_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
