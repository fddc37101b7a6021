"""inbox: platform events stored before they are acknowledged, deleted once handled

In Slack HTTP mode an event is written here before the 200 goes back, so an event that could not be
stored gets an error status (and Slack retries it), and an event acknowledged just before a crash is
handled by the next process. Rows live only until their turn is committed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=300), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_key", name="uq_inbound_events_key"),
    )
    op.create_index("ix_inbound_events_received", "inbound_events", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbound_events_received", table_name="inbound_events")
    op.drop_table("inbound_events")
