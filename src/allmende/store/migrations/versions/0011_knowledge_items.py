"""Knowledge hub: published knowledge items and their versions, and the federated knowledge index.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SCAFFOLD: the owner of this revision fills in its tables in this session.
    return None


def downgrade() -> None:
    return None
