"""outbox: mark each customer-bound message sent once its platform has accepted it

`messages.sent_at` stays NULL for an outbound message until the channel's send succeeded; a process
that starts (or the periodic sweep) re-delivers outbound messages left unsent, so a reply committed
just before a crash still reaches the customer. The partial index holds only unsent outbound rows,
so the sweep stays cheap however large the table grows. Rows written before this migration were
delivered (or are past saving): they are marked sent with their own time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSENT = "direction = 'out' AND sent_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE messages SET sent_at = created_at WHERE direction = 'out'")
    op.create_index("ix_messages_unsent", "messages", ["created_at"], unique=False,
                    postgresql_where=sa.text(UNSENT), sqlite_where=sa.text(UNSENT))


def downgrade() -> None:
    op.drop_index("ix_messages_unsent", table_name="messages")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("sent_at")
