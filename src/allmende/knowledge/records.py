"""What the knowledge domain stores: this node's items and every version of them, the knowledge index
(this node's published items and those crawled from other nodes, with their embeddings), and how the
knowledge crawl of each other node went."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class KnowledgeItemRecord(Base):
    """One of this node's knowledge items: its current version. ``removed_at`` set: withdrawn (kept
    with its versions, no longer served)."""

    __tablename__ = "knowledge_items"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class KnowledgeVersionRecord(Base):
    """Every version an item ever had (an edit adds one, nothing is overwritten)."""

    __tablename__ = "knowledge_item_versions"

    item_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]


class KnowledgeIndexRecord(Base):
    """One searchable item, this node's own or another node's as last crawled.

    ``regions`` and ``sizes`` hold codes separated by spaces, ``sectors`` one per line (empty: for
    anyone). ``embedding`` is the item's normalised float32 vector from ``embedding_model`` (None
    without the model). ``title_terms``, ``keyword_terms`` and ``body_terms`` are what the full-text
    index reads: the fields' stems and endings (:func:`allmende.knowledge.analysis.search_terms`).
    """

    __tablename__ = "knowledge_index"
    __table_args__ = (UniqueConstraint("node_did", "item_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    node_did: Mapped[str] = mapped_column(String(500), index=True)
    node_name: Mapped[str] = mapped_column(String(300), default="")
    item_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    title_terms: Mapped[str] = mapped_column(Text, default="")
    keyword_terms: Mapped[str] = mapped_column(Text, default="")
    body_terms: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="")
    regions: Mapped[str] = mapped_column(Text, default="")
    sectors: Mapped[str] = mapped_column(Text, default="")
    sizes: Mapped[str] = mapped_column(String(100), default="")
    document: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    modified: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class KnowledgeSourceRecord(Base):
    """A node whose published knowledge items this node crawls, and how the last visit went."""

    __tablename__ = "knowledge_sources"

    did: Mapped[str] = mapped_column(String(500), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(1000))
    etag: Mapped[str | None] = mapped_column(Text)
    items: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


__all__ = ["KnowledgeIndexRecord", "KnowledgeItemRecord", "KnowledgeSourceRecord", "KnowledgeVersionRecord"]
