"""A counterparty's pid is unique per counterparty, not across all of them.

Two consumers may well pick the same consumerPid (or two providers the same providerPid); the
uniqueness that matters is per (role, counterparty). Our own pid is the primary key anyway.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("negotiations", "transfers")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_role_provider_pid", type_="unique")
            batch.drop_constraint(f"uq_{table}_role_consumer_pid", type_="unique")
            batch.create_unique_constraint(
                f"uq_{table}_party_provider_pid", ["role", "counterparty_did", "provider_pid"]
            )
            batch.create_unique_constraint(
                f"uq_{table}_party_consumer_pid", ["role", "counterparty_did", "consumer_pid"]
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_party_provider_pid", type_="unique")
            batch.drop_constraint(f"uq_{table}_party_consumer_pid", type_="unique")
            batch.create_unique_constraint(f"uq_{table}_role_provider_pid", ["role", "provider_pid"])
            batch.create_unique_constraint(f"uq_{table}_role_consumer_pid", ["role", "consumer_pid"])
