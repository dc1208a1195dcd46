"""What the network domain stores: a directory's applications and members, this node's memberships,
and the federated catalog (other nodes' datasets as they show them to this node)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class DirectoryEntryRecord(Base):
    """Directory side: one application to join this node's community, and (once admitted) a member.

    ``state``: pending | admitted | refused | revoked. ``status_index`` is the member's position in
    the directory's revocation status list (unique, assigned at admission).
    """

    __tablename__ = "directory_entries"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    applicant_did: Mapped[str] = mapped_column(String(500), index=True)
    name: Mapped[str] = mapped_column(String(300))
    dsp_url: Mapped[str] = mapped_column(String(1000))
    base_url: Mapped[str] = mapped_column(String(1000))
    sector: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(200), default="")
    size_class: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), index=True)
    role: Mapped[str] = mapped_column(String(40), default="member")
    reason: Mapped[str | None] = mapped_column(Text)
    status_index: Mapped[int | None] = mapped_column(Integer, unique=True)
    credential_id: Mapped[str | None] = mapped_column(String(200))
    credential: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[datetime | None]
    received_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(300))


class MembershipRecord(Base):
    """Member side: this node's application to a directory and the credential it was given.

    ``state``: applied | admitted | refused | revoked | expired.
    """

    __tablename__ = "memberships"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    directory_url: Mapped[str] = mapped_column(String(1000))
    directory_did: Mapped[str] = mapped_column(String(500), index=True)
    community: Mapped[str] = mapped_column(String(600))
    community_name: Mapped[str] = mapped_column(String(300), default="")
    application_id: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    credential: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[datetime | None]
    applied_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FederatedNodeRecord(Base):
    """A node the crawler visits: where it is, what its directory says about it, how the last visit went."""

    __tablename__ = "federated_nodes"

    did: Mapped[str] = mapped_column(String(500), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    dsp_url: Mapped[str] = mapped_column(String(1000))
    directory_did: Mapped[str] = mapped_column(String(500))
    sector: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(200), default="")
    size_class: Mapped[str] = mapped_column(String(20), default="")
    etag: Mapped[str | None] = mapped_column(Text)  # its catalog pages' ETags, space-separated
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class FederatedDatasetRecord(Base):
    """One dataset of another node's catalog as that node showed it to this node's identity."""

    __tablename__ = "federated_datasets"
    __table_args__ = (UniqueConstraint("node_did", "dataset_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    node_did: Mapped[str] = mapped_column(String(500), index=True)
    dataset_id: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="")  # one per line
    themes: Mapped[str] = mapped_column(Text, default="")  # one per line
    formats: Mapped[str] = mapped_column(Text, default="")  # one per line
    publisher: Mapped[str] = mapped_column(String(300), default="")
    templates: Mapped[str] = mapped_column(Text, default="")  # policy templates of its offers, one per line
    offers: Mapped[list[Any]]  # the offers (ids and ODRL policies) as the catalog gave them
    dataset: Mapped[dict[str, Any]]  # the DCAT dataset as received
    modified: Mapped[datetime | None]  # dct:modified (else dct:issued) as the node states it
    updated_at: Mapped[datetime]
    # the filter values as full-text tokens (allmende.network.facets)
    facets: Mapped[str] = mapped_column(Text, default="", server_default="")


class FederatedValueRecord(Base):
    """One filter value of a federated dataset (publisher, keyword, theme, format, template, sector,
    region): the index that makes search filters and facets index look-ups instead of table scans.
    ``key`` is the value in lower case, what filters compare."""

    __tablename__ = "federated_dataset_values"
    __table_args__ = (Index("ix_federated_dataset_values_kind_key", "kind", "key", "dataset_row"),)

    dataset_row: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("federated_datasets.id", ondelete="CASCADE"),
        primary_key=True,
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    value: Mapped[str] = mapped_column(String(300))
