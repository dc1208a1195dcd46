"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 00:14:49.933045
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import allmende.store.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", allmende.store.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=True),
        sa.Column("byte_size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("created_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.Column("modified_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=500), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("message_digest", sa.String(length=100), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_event"), ["event"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_subject"), ["subject"], unique=False)

    op.create_table(
        "negotiations",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("provider_pid", sa.String(length=200), nullable=True),
        sa.Column("consumer_pid", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("counterparty_did", sa.String(length=500), nullable=False),
        sa.Column("counterparty_address", sa.String(length=1000), nullable=True),
        sa.Column("offer_id", sa.String(length=200), nullable=True),
        sa.Column("dataset_id", sa.String(length=200), nullable=True),
        sa.Column("offer", sa.JSON(), nullable=True),
        sa.Column("agreement_id", sa.String(length=200), nullable=True),
        sa.Column("review_pending", sa.Boolean(), nullable=False),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("termination_reason", sa.Text(), nullable=True),
        sa.Column("created_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_negotiations")),
        sa.UniqueConstraint("role", "consumer_pid", name="uq_negotiations_role_consumer_pid"),
        sa.UniqueConstraint("role", "provider_pid", name="uq_negotiations_role_provider_pid"),
    )
    with op.batch_alter_table("negotiations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_negotiations_review_pending"), ["review_pending"], unique=False)
        batch_op.create_index("ix_negotiations_state", ["state"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("process_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("audience_did", sa.String(length=500), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("token_claims", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.Column("deadline_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.Column("sent_at", allmende.store.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_process_id"), ["process_id"], unique=False)

    op.create_table(
        "seen_tokens",
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("expires_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_seen_tokens")),
    )
    with op.batch_alter_table("seen_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_tokens_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "agreements",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("negotiation_id", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("provider_did", sa.String(length=500), nullable=False),
        sa.Column("consumer_did", sa.String(length=500), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("provider_signature", sa.Text(), nullable=True),
        sa.Column("consumer_signature", sa.Text(), nullable=True),
        sa.Column("signed_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.Column("finalized_at", allmende.store.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["negotiation_id"], ["negotiations.id"], name=op.f("fk_agreements_negotiation_id_negotiations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreements_negotiation_id"), ["negotiation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_target"), ["target"], unique=False)

    op.create_table(
        "offers",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("asset_id", sa.String(length=80), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("access_policy", sa.JSON(), nullable=True),
        sa.Column("template", sa.String(length=80), nullable=True),
        sa.Column("review_required", sa.Boolean(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_offers_asset_id_assets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_published"), ["published"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_published"))
        batch_op.drop_index(batch_op.f("ix_offers_asset_id"))

    op.drop_table("offers")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_target"))
        batch_op.drop_index(batch_op.f("ix_agreements_negotiation_id"))

    op.drop_table("agreements")
    with op.batch_alter_table("seen_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_tokens_expires_at"))

    op.drop_table("seen_tokens")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_process_id"))
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("negotiations", schema=None) as batch_op:
        batch_op.drop_index("ix_negotiations_state")
        batch_op.drop_index(batch_op.f("ix_negotiations_review_pending"))

    op.drop_table("negotiations")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_subject"))
        batch_op.drop_index(batch_op.f("ix_audit_log_event"))

    op.drop_table("audit_log")
    op.drop_table("assets")
    op.drop_table("api_keys")
