"""conversations: the last empathy opener said and when; customers: last_opener dropped

A turn that says an opener writes its conversation anyway (its state and time change), so keeping the
opener there spares the customer's row an UPDATE on half of all turns. A customer's last opener is the
latest `last_opener_at` of their conversations (rule 1: never the same opener twice in a row).

Each customer's last opener moves to their latest conversation, stamped with its last message's time, so
the rule holds across the upgrade. Plain ALTER TABLE … DROP COLUMN, as in 0011.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("last_opener", sa.String(length=400), nullable=True))
    op.add_column("conversations", sa.Column("last_opener_at", sa.DateTime(), nullable=True))
    op.execute(sa.text(
        "UPDATE conversations SET last_opener_at = last_message_at, "
        "last_opener = (SELECT c.last_opener FROM customers c WHERE c.id = conversations.customer_id) "
        "WHERE id IN (SELECT max(id) FROM conversations GROUP BY customer_id) "
        "AND customer_id IN (SELECT id FROM customers WHERE last_opener IS NOT NULL)"
    ))
    op.execute("ALTER TABLE customers DROP COLUMN last_opener")


def downgrade() -> None:
    op.add_column("customers", sa.Column("last_opener", sa.String(length=400), nullable=True))
    op.execute(sa.text(
        "UPDATE customers SET last_opener = (SELECT c.last_opener FROM conversations c "
        "WHERE c.customer_id = customers.id AND c.last_opener_at IS NOT NULL "
        "ORDER BY c.last_opener_at DESC, c.id DESC LIMIT 1)"
    ))
    op.execute("ALTER TABLE conversations DROP COLUMN last_opener_at")
    op.execute("ALTER TABLE conversations DROP COLUMN last_opener")
