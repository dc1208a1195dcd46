"""Index to follow negotiations by their last change (GET /api/v1/negotiations?updated_after=).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_negotiations_updated_at", "negotiations", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_negotiations_updated_at", table_name="negotiations")
