"""Indexes for paging the catalog without sorting every asset.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_assets_created_at_id", "assets", ["created_at", "id"])
    op.create_index("ix_offers_asset_id_published", "offers", ["asset_id", "published"])


def downgrade() -> None:
    op.drop_index("ix_offers_asset_id_published", table_name="offers")
    op.drop_index("ix_assets_created_at_id", table_name="assets")
