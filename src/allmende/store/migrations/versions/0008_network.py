"""The network: directory entries, memberships, the federated catalog.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allmende.store.base import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_entries",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("applicant_did", sa.String(500), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("dsp_url", sa.String(1000), nullable=False),
        sa.Column("base_url", sa.String(1000), nullable=False),
        sa.Column("sector", sa.String(200), nullable=False),
        sa.Column("region", sa.String(200), nullable=False),
        sa.Column("size_class", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status_index", sa.Integer(), nullable=True),
        sa.Column("credential_id", sa.String(200), nullable=True),
        sa.Column("credential", sa.Text(), nullable=True),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_entries")),
        sa.UniqueConstraint("status_index", name=op.f("uq_directory_entries_status_index")),
    )
    op.create_index(op.f("ix_directory_entries_applicant_did"), "directory_entries", ["applicant_did"])
    op.create_index(op.f("ix_directory_entries_state"), "directory_entries", ["state"])
    op.create_table(
        "memberships",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("directory_url", sa.String(1000), nullable=False),
        sa.Column("directory_did", sa.String(500), nullable=False),
        sa.Column("community", sa.String(600), nullable=False),
        sa.Column("community_name", sa.String(300), nullable=False),
        sa.Column("application_id", sa.String(80), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("credential", sa.Text(), nullable=True),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_directory_did"), "memberships", ["directory_did"])
    op.create_table(
        "federated_nodes",
        sa.Column("did", sa.String(500), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("dsp_url", sa.String(1000), nullable=False),
        sa.Column("directory_did", sa.String(500), nullable=False),
        sa.Column("sector", sa.String(200), nullable=False),
        sa.Column("region", sa.String(200), nullable=False),
        sa.Column("size_class", sa.String(20), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_federated_nodes")),
    )
    op.create_table(
        "federated_datasets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("node_did", sa.String(500), nullable=False),
        sa.Column("dataset_id", sa.String(500), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("themes", sa.Text(), nullable=False),
        sa.Column("formats", sa.Text(), nullable=False),
        sa.Column("publisher", sa.String(300), nullable=False),
        sa.Column("templates", sa.Text(), nullable=False),
        sa.Column("offers", sa.JSON(), nullable=False),
        sa.Column("dataset", sa.JSON(), nullable=False),
        sa.Column("modified", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federated_datasets")),
        sa.UniqueConstraint("node_did", "dataset_id", name=op.f("uq_federated_datasets_node_did")),
    )
    op.create_index(op.f("ix_federated_datasets_node_did"), "federated_datasets", ["node_did"])


def downgrade() -> None:
    op.drop_table("federated_datasets")
    op.drop_table("federated_nodes")
    op.drop_table("memberships")
    op.drop_table("directory_entries")
