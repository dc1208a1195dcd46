"""Discussions: topics, signed posts, moderation.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SCAFFOLD: the owner of this revision fills in its tables in this session.
    return None


def downgrade() -> None:
    return None
