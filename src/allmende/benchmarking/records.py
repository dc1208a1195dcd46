"""What the benchmarking domain stores.

Organiser side: rounds and their participants (DIDs, endpoints, receipts, share-sums — never a
participant's figures). Participant side: its participations (with its own values, which never leave
the node in the clear) and the shares other participants sent it (each one random on its own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class BenchmarkRoundRecord(Base):
    """Organiser side: one benchmark round. ``state``: open | sharing | summing | released | failed."""

    __tablename__ = "benchmark_rounds"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kpis: Mapped[list[Any]]
    min_participants: Mapped[int] = mapped_column(Integer)
    requested_threshold: Mapped[int | None] = mapped_column(Integer)
    threshold: Mapped[int | None] = mapped_column(Integer)  # fixed when joining closes
    community: Mapped[str | None] = mapped_column(String(600))
    deadline: Mapped[datetime]  # joining closes then
    phase_seconds: Mapped[float] = mapped_column(Float)
    epsilon: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    phase_deadline: Mapped[datetime | None]  # end of the sharing or summing window
    dealers: Mapped[list[Any] | None]
    summers: Mapped[list[Any] | None]
    result: Mapped[list[Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BenchmarkRoundParticipantRecord(Base):
    """Organiser side: a node that joined a round; ``position`` (1..n) is fixed when joining closes."""

    __tablename__ = "benchmark_round_participants"

    round_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("benchmark_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    did: Mapped[str] = mapped_column(String(500), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    endpoint: Mapped[str] = mapped_column(String(1000))
    position: Mapped[int | None] = mapped_column(Integer)
    receipt: Mapped[list[Any] | None]  # the positions it holds shares from
    complete: Mapped[bool] = mapped_column(default=False)
    share_sum: Mapped[list[Any] | None]  # its share of the totals (decimal strings)
    joined_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BenchmarkParticipationRecord(Base):
    """Participant side: this node's part in another node's round.

    ``state``: joined | sharing | summed | released | failed. ``own_values`` stay on this node.
    """

    __tablename__ = "benchmark_participations"
    __table_args__ = (UniqueConstraint("organiser_did", "round_id"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    round_id: Mapped[str] = mapped_column(String(80))
    round_url: Mapped[str] = mapped_column(String(1000))
    organiser_did: Mapped[str] = mapped_column(String(500))
    organiser_url: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(300))
    definition: Mapped[dict[str, Any]]  # KPIs, minimum, deadline as the organiser published them
    own_values: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column(Integer)
    threshold: Mapped[int | None] = mapped_column(Integer)
    roster: Mapped[str | None] = mapped_column(Text)  # the organiser's signed participant list
    answered_dealers: Mapped[list[Any] | None]
    result: Mapped[list[Any] | None]
    joined_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BenchmarkShareRecord(Base):
    """Participant side: the share of one dealer's contribution this node holds (random on its own)."""

    __tablename__ = "benchmark_shares"

    participation_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("benchmark_participations.id", ondelete="CASCADE"), primary_key=True
    )
    dealer_position: Mapped[int] = mapped_column(Integer, primary_key=True)
    dealer_did: Mapped[str] = mapped_column(String(500))
    shares: Mapped[list[Any]]  # decimal strings of field elements
    received_at: Mapped[datetime]
