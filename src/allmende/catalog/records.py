"""Persisted catalog records: assets (what the owner shares) and offers (asset + policies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class AssetRecord(Base):
    """An asset: a file (later: folder, HTTP API, SQL query) of the owner's, with its DCAT metadata."""

    __tablename__ = "assets"
    __table_args__ = (Index("ix_assets_created_at_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # urn:uuid:..., also the dataset id
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    media_type: Mapped[str | None] = mapped_column(String(200))
    byte_size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[dict[str, Any]]  # {"kind": "file", "path": "/abs/path"}
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class OfferRecord(Base):
    """An offer: the asset with the contract policy it is offered under and who may see it."""

    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_asset_id_published", "asset_id", "published"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # urn:uuid:..., the ODRL Offer @id
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    policy: Mapped[dict[str, Any]]  # ODRL Offer in DSP compact form (contract policy)
    access_policy: Mapped[dict[str, Any] | None]  # who may see the offer in the catalog; None = everyone
    template: Mapped[str | None] = mapped_column(String(80))
    review_required: Mapped[bool] = mapped_column(default=False)
    published: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[datetime]
