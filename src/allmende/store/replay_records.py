"""Token ids (jti) already accepted, shared by every worker process of a node."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class SeenTokenRecord(Base):
    """A jti seen before its expiry; rows past ``expires_at`` are pruned."""

    __tablename__ = "seen_tokens"

    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[datetime] = mapped_column(index=True)
