"""What discussions store: on the hosting node its topics, their signed posts and the reports of
posts; on the author's node the posts it sent to other nodes' topics (delivered through the outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from allmende.store.base import Base


class TopicRecord(Base):
    """A topic hosted by this node: free-standing, or about a knowledge item (``about``: its IRI or id)."""

    __tablename__ = "discussion_topics"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    about: Mapped[str] = mapped_column(String(1000), default="", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    last_post_at: Mapped[datetime | None]
    locked: Mapped[bool] = mapped_column(default=False)
    lock_reason: Mapped[str | None] = mapped_column(Text)
    locked_at: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(300))


class PostRecord(Base):
    """A post in a topic hosted here, with the JWS its author's node signed it with.

    ``seq`` orders the posts of a topic (1, 2, ...). ``(author_did, nonce)`` is unique, so a post that
    arrives twice (an outbox retry) is stored once. A hidden post keeps its text and signature for the
    record but is shown as hidden by the moderator, with the reason.
    """

    __tablename__ = "discussion_posts"
    __table_args__ = (
        UniqueConstraint("topic_id", "seq"),
        UniqueConstraint("author_did", "nonce"),
        Index("ix_discussion_posts_author_received", "author_did", "received_at"),
        Index("ix_discussion_posts_topic_received", "topic_id", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(80), ForeignKey("discussion_topics.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(String(80))
    author_did: Mapped[str] = mapped_column(String(500))
    author_name: Mapped[str] = mapped_column(String(300))
    author_node: Mapped[str] = mapped_column(String(300), default="")
    nonce: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]  # as the author signed it
    received_at: Mapped[datetime]  # when this node stored it (what the rate limits count)
    signature: Mapped[str] = mapped_column(Text)  # the compact JWS
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_at: Mapped[datetime | None]
    hidden_by: Mapped[str | None] = mapped_column(String(300))


class ReportRecord(Base):
    """A participant node's report of a post, queued for the owner: open | hidden | dismissed."""

    __tablename__ = "discussion_reports"
    __table_args__ = (UniqueConstraint("post_id", "reporter_did"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(80), ForeignKey("discussion_posts.id", ondelete="CASCADE"))
    topic_id: Mapped[str] = mapped_column(String(80), index=True)
    reporter_did: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(300))


class OutgoingPostRecord(Base):
    """Author side: a post this node signed for a topic on another node; sent through the outbox
    (``id`` is the outbox message's process id and the post's nonce)."""

    __tablename__ = "discussion_outgoing"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    host_url: Mapped[str] = mapped_column(String(1000))
    host_did: Mapped[str] = mapped_column(String(500), index=True)
    topic_id: Mapped[str] = mapped_column(String(80))
    parent_id: Mapped[str | None] = mapped_column(String(80))
    author_name: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
