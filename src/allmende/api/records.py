"""Management API keys (only their hashes are stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class ApiKeyRecord(Base):
    """An API key: ``key_hash`` is sha-256 of the secret; the secret itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # public prefix of the key
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))  # "admin" | "read"
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
