"""Discussions: topics, signed posts, moderation.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allmende.store.base import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "discussion_topics",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("about", sa.String(1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("post_count", sa.Integer(), nullable=False),
        sa.Column("last_post_at", UTCDateTime(), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("lock_reason", sa.Text(), nullable=True),
        sa.Column("locked_at", UTCDateTime(), nullable=True),
        sa.Column("locked_by", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discussion_topics")),
    )
    op.create_index(op.f("ix_discussion_topics_about"), "discussion_topics", ["about"])
    op.create_table(
        "discussion_posts",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("topic_id", sa.String(80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.String(80), nullable=True),
        sa.Column("author_did", sa.String(500), nullable=False),
        sa.Column("author_name", sa.String(300), nullable=False),
        sa.Column("author_node", sa.String(300), nullable=False),
        sa.Column("nonce", sa.String(80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.Column("hidden_at", UTCDateTime(), nullable=True),
        sa.Column("hidden_by", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["discussion_topics.id"],
            name=op.f("fk_discussion_posts_topic_id_discussion_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discussion_posts")),
        sa.UniqueConstraint("topic_id", "seq", name=op.f("uq_discussion_posts_topic_id")),
        sa.UniqueConstraint("author_did", "nonce", name=op.f("uq_discussion_posts_author_did")),
    )
    op.create_index("ix_discussion_posts_author_received", "discussion_posts", ["author_did", "received_at"])
    op.create_index("ix_discussion_posts_topic_received", "discussion_posts", ["topic_id", "received_at"])
    op.create_table(
        "discussion_reports",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("post_id", sa.String(80), nullable=False),
        sa.Column("topic_id", sa.String(80), nullable=False),
        sa.Column("reporter_did", sa.String(500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["discussion_posts.id"],
            name=op.f("fk_discussion_reports_post_id_discussion_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discussion_reports")),
        sa.UniqueConstraint("post_id", "reporter_did", name=op.f("uq_discussion_reports_post_id")),
    )
    op.create_index(op.f("ix_discussion_reports_topic_id"), "discussion_reports", ["topic_id"])
    op.create_index(op.f("ix_discussion_reports_state"), "discussion_reports", ["state"])
    op.create_table(
        "discussion_outgoing",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("host_url", sa.String(1000), nullable=False),
        sa.Column("host_did", sa.String(500), nullable=False),
        sa.Column("topic_id", sa.String(80), nullable=False),
        sa.Column("parent_id", sa.String(80), nullable=True),
        sa.Column("author_name", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discussion_outgoing")),
    )
    op.create_index(op.f("ix_discussion_outgoing_host_did"), "discussion_outgoing", ["host_did"])


def downgrade() -> None:
    op.drop_table("discussion_outgoing")
    op.drop_table("discussion_reports")
    op.drop_table("discussion_posts")
    op.drop_table("discussion_topics")
