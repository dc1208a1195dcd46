"""Private peer benchmark rounds (secure aggregation): rounds, participations, shares.

Organiser side: ``benchmark_rounds`` and ``benchmark_round_participants``; participant side:
``benchmark_participations`` (with the node's own values) and ``benchmark_shares`` (shares received
from the other participants).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allmende.store.base import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benchmark_rounds",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("min_participants", sa.Integer(), nullable=False),
        sa.Column("requested_threshold", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("community", sa.String(600), nullable=True),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("phase_seconds", sa.Float(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("phase_deadline", UTCDateTime(), nullable=True),
        sa.Column("dealers", sa.JSON(), nullable=True),
        sa.Column("summers", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benchmark_rounds")),
    )
    op.create_index(op.f("ix_benchmark_rounds_state"), "benchmark_rounds", ["state"])
    op.create_table(
        "benchmark_round_participants",
        sa.Column("round_id", sa.String(80), nullable=False),
        sa.Column("did", sa.String(500), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("endpoint", sa.String(1000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("share_sum", sa.JSON(), nullable=True),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["benchmark_rounds.id"],
            name=op.f("fk_benchmark_round_participants_round_id_benchmark_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", "did", name=op.f("pk_benchmark_round_participants")),
    )
    op.create_table(
        "benchmark_participations",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("round_id", sa.String(80), nullable=False),
        sa.Column("round_url", sa.String(1000), nullable=False),
        sa.Column("organiser_did", sa.String(500), nullable=False),
        sa.Column("organiser_url", sa.String(1000), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("own_values", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("roster", sa.Text(), nullable=True),
        sa.Column("answered_dealers", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benchmark_participations")),
        sa.UniqueConstraint(
            "organiser_did", "round_id", name=op.f("uq_benchmark_participations_organiser_did")
        ),
    )
    op.create_table(
        "benchmark_shares",
        sa.Column("participation_id", sa.String(80), nullable=False),
        sa.Column("dealer_position", sa.Integer(), nullable=False),
        sa.Column("dealer_did", sa.String(500), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participation_id"],
            ["benchmark_participations.id"],
            name=op.f("fk_benchmark_shares_participation_id_benchmark_participations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participation_id", "dealer_position", name=op.f("pk_benchmark_shares")),
    )


def downgrade() -> None:
    op.drop_table("benchmark_shares")
    op.drop_table("benchmark_participations")
    op.drop_table("benchmark_round_participants")
    op.drop_index(op.f("ix_benchmark_rounds_state"), table_name="benchmark_rounds")
    op.drop_table("benchmark_rounds")
