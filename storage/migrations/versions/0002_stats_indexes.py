"""stats indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index name, columns): covering indexes for the stats aggregates and the rule-4 audit's lookups.
INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("customers", "ix_customers_opted_out_at", ["opted_out_at"]),
    ("conversations", "ix_conversations_customer_opened", ["customer_id", "opened_at"]),
    ("conversations", "ix_conversations_frustrated", ["frustrated", "id"]),
    ("needs", "ix_needs_created_status_topic", ["created_at", "status", "topic"]),
    ("ratings", "ix_ratings_created_score", ["created_at", "score", "conversation_id"]),
    ("ratings", "ix_ratings_conversation_score", ["conversation_id", "score", "created_at"]),
    ("offers", "ix_offers_stats", ["created_at", "kind", "status", "allowed", "conversation_id", "customer_id"]),
    ("offers", "ix_offers_conversation", ["conversation_id"]),
    ("followups", "ix_followups_customer_status_answered", ["customer_id", "status", "answered_at"]),
    ("followups", "ix_followups_sent_at", ["sent_at"]),
    ("followups", "ix_followups_status_answered", ["status", "answered_at"]),
    ("handoffs", "ix_handoffs_stats", ["created_at", "agent_key", "first_reply_at", "claimed_at"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
