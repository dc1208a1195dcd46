"""Compute jobs as both sides store them, and the algorithms the owner pre-approved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class ComputeJobRecord(Base):
    """One job: on the provider the job that runs on its data, on the consumer the job it submitted.

    ``state`` is one of :data:`allmende.compute.states.STATES`. The provider keeps the candidate
    result (``result_path``) until the owner releases or rejects it; the consumer keeps the released
    result it fetched. ``epsilon_spent`` counts against the agreement's privacy budget once released.
    """

    __tablename__ = "compute_jobs"
    __table_args__ = (
        Index("ix_compute_jobs_role_state", "role", "state"),
        Index("ix_compute_jobs_agreement", "agreement_id"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))  # "provider" | "consumer"
    remote_id: Mapped[str | None] = mapped_column(String(80))  # the provider's job id (consumer side)
    provider_url: Mapped[str | None] = mapped_column(String(1000))  # the provider's base URL (consumer side)
    agreement_id: Mapped[str] = mapped_column(String(200))
    provider_did: Mapped[str] = mapped_column(String(500))
    consumer_did: Mapped[str] = mapped_column(String(500))
    dataset_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(20))
    runtime: Mapped[str] = mapped_column(String(80))
    code: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(80))
    options: Mapped[dict[str, Any]]  # group size column, privacy request
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    manual_release: Mapped[bool] = mapped_column(default=True)
    checks: Mapped[list[Any]] = mapped_column(default=list)  # release checks passed
    log: Mapped[str] = mapped_column(Text, default="")
    result_path: Mapped[str | None] = mapped_column(String(1000))
    result_bytes: Mapped[int | None]
    result_rows: Mapped[int | None]
    epsilon_spent: Mapped[float] = mapped_column(Float, default=0.0)
    decided_by: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ApprovedAlgorithmRecord(Base):
    """An algorithm (by bundle digest) whose jobs release automatically once the gates pass."""

    __tablename__ = "compute_approved_algorithms"

    digest: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str] = mapped_column(String(500))
    approved_at: Mapped[datetime]
