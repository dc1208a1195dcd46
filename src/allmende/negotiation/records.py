"""Persisted contract negotiations and agreements, for both roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class NegotiationRecord(Base):
    """One contract negotiation as this node sees it (``role`` = this node's role)."""

    __tablename__ = "negotiations"
    __table_args__ = (
        UniqueConstraint(
            "role", "counterparty_did", "provider_pid", name="uq_negotiations_party_provider_pid"
        ),
        UniqueConstraint(
            "role", "counterparty_did", "consumer_pid", name="uq_negotiations_party_consumer_pid"
        ),
        Index("ix_negotiations_state", "state"),
        Index("ix_negotiations_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # our own pid for this process
    role: Mapped[str] = mapped_column(String(10))  # "provider" | "consumer"
    provider_pid: Mapped[str | None] = mapped_column(String(200))
    consumer_pid: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    counterparty_did: Mapped[str] = mapped_column(String(500))
    counterparty_address: Mapped[str | None] = mapped_column(String(1000))  # their DSP base / callback URL
    offer_id: Mapped[str | None] = mapped_column(String(200))
    dataset_id: Mapped[str | None] = mapped_column(String(200))
    offer: Mapped[dict[str, Any] | None]  # the latest offer/request on the table
    agreement_id: Mapped[str | None] = mapped_column(String(200))
    review_pending: Mapped[bool] = mapped_column(default=False, index=True)
    review_note: Mapped[str | None] = mapped_column(Text)
    termination_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AgreementRecord(Base):
    """A contract agreement with the signatures of both parties over its digest."""

    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the ODRL Agreement @id
    negotiation_id: Mapped[str] = mapped_column(ForeignKey("negotiations.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    provider_did: Mapped[str] = mapped_column(String(500))
    consumer_did: Mapped[str] = mapped_column(String(500))
    target: Mapped[str] = mapped_column(String(200), index=True)
    policy: Mapped[dict[str, Any]]  # the ODRL Agreement in DSP compact form
    digest: Mapped[str] = mapped_column(String(100))  # sha-256 of the canonical JSON, "sha-256=:...:"
    provider_signature: Mapped[str | None] = mapped_column(Text)  # JWT by the provider over the digest
    consumer_signature: Mapped[str | None] = mapped_column(Text)  # JWT by the consumer over the digest
    signed_at: Mapped[datetime]
    finalized_at: Mapped[datetime | None]
    terminated_at: Mapped[datetime | None]  # the provider's owner ended the agreement
    termination_reason: Mapped[str | None] = mapped_column(Text)
