"""Transfer processes; agreements can be terminated by the provider.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 01:32:07.758674
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import allmende.store.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("provider_pid", sa.String(length=200), nullable=True),
        sa.Column("consumer_pid", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("counterparty_did", sa.String(length=500), nullable=False),
        sa.Column("counterparty_address", sa.String(length=1000), nullable=False),
        sa.Column("agreement_id", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=100), nullable=False),
        sa.Column("data_address", sa.JSON(), nullable=True),
        sa.Column("use_number", sa.Integer(), nullable=True),
        sa.Column("bytes_served", sa.BigInteger(), nullable=False),
        sa.Column("termination_reason", sa.Text(), nullable=True),
        sa.Column("created_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", allmende.store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("role", "consumer_pid", name="uq_transfers_role_consumer_pid"),
        sa.UniqueConstraint("role", "provider_pid", name="uq_transfers_role_provider_pid"),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index("ix_transfers_agreement_id", ["agreement_id"], unique=False)
        batch_op.create_index("ix_transfers_updated_at", ["updated_at"], unique=False)

    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("terminated_at", allmende.store.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("termination_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_column("termination_reason")
        batch_op.drop_column("terminated_at")

    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_transfers_updated_at")
        batch_op.drop_index("ix_transfers_agreement_id")

    op.drop_table("transfers")
