"""Compute-to-data: jobs (on both sides) and the algorithms the owner pre-approved.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allmende.store.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = UTCDateTime()
    op.create_table(
        "compute_jobs",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("remote_id", sa.String(80)),
        sa.Column("provider_url", sa.String(1000)),
        sa.Column("agreement_id", sa.String(200), nullable=False),
        sa.Column("provider_did", sa.String(500), nullable=False),
        sa.Column("consumer_did", sa.String(500), nullable=False),
        sa.Column("dataset_id", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("runtime", sa.String(80), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("manual_release", sa.Boolean(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("result_path", sa.String(1000)),
        sa.Column("result_bytes", sa.Integer()),
        sa.Column("result_rows", sa.Integer()),
        sa.Column("epsilon_spent", sa.Float(), nullable=False),
        sa.Column("decided_by", sa.String(500)),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("finished_at", when),
    )
    op.create_index("ix_compute_jobs_role_state", "compute_jobs", ["role", "state"])
    op.create_index("ix_compute_jobs_agreement", "compute_jobs", ["agreement_id"])
    op.create_table(
        "compute_approved_algorithms",
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(500), nullable=False),
        sa.Column("approved_at", when, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("compute_approved_algorithms")
    op.drop_index("ix_compute_jobs_agreement", table_name="compute_jobs")
    op.drop_index("ix_compute_jobs_role_state", table_name="compute_jobs")
    op.drop_table("compute_jobs")
