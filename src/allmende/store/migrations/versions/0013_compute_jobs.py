"""Compute-to-data: jobs, pre-approved algorithms, privacy budgets.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SCAFFOLD: the owner of this revision fills in its tables in this session.
    return None


def downgrade() -> None:
    return None
