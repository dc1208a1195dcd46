"""Private peer benchmark rounds (secure aggregation): rounds, participations, shares.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SCAFFOLD: the owner of this revision fills in its tables in this session.
    return None


def downgrade() -> None:
    return None
