"""customers: drop last_seen_at, which every turn wrote and nothing read

Stamping it was one UPDATE of the customer row a turn, most turns' only reason to write that row. When a
customer was last seen is their latest conversation's last_message_at (indexed by customer).

Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+ and PostgreSQL), not a batch rebuild: on SQLite a rebuild
drops and recreates the table, and other tables' rows point at customers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE customers DROP COLUMN last_seen_at")


def downgrade() -> None:
    # Back as the latest message of any of the customer's conversations, else when they were created (the
    # column comes back nullable: SQLite adds a NOT NULL column only with a constant default).
    op.add_column("customers", sa.Column("last_seen_at", sa.DateTime(), nullable=True))
    op.execute(sa.text(
        "UPDATE customers SET last_seen_at = COALESCE("
        "(SELECT max(c.last_message_at) FROM conversations c WHERE c.customer_id = customers.id), created_at)"
    ))
