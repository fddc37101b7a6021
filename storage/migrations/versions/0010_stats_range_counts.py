"""stats range counts: count customers and ratings from index ranges, reading no column of each entry

Walking the period's entries and testing columns of each costs far more than counting a range of index
entries (SQLite decodes every timestamp as text). With these, the stats count:
- customers as the period's conversations minus those whose previous conversation is inside the period, and
  customers who came back as those minus the ones whose second previous is inside it too: three range counts
  on `(opened_at)`, `(previous_opened_at, opened_at)` and `(second_previous_opened_at, opened_at)` (a
  conversation opens after its previous ones, so those ranges hold only the period's conversations).
- ratings score by score, with and without an offer, each a range of `ratings (score, with_offer,
  created_at)`; responses, sums, satisfied and the with/without-offer split are sums of those counts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("conversations", "ix_conversations_opened_at", ["opened_at"]),
    ("conversations", "ix_conversations_previous_opened", ["previous_opened_at", "opened_at"]),
    ("conversations", "ix_conversations_second_previous_opened", ["second_previous_opened_at", "opened_at"]),
    ("ratings", "ix_ratings_score_offer_created", ["score", "with_offer", "created_at"]),
)


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_opened_previous")
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index("ix_conversations_opened_previous",
                              ["opened_at", "previous_opened_at", "second_previous_opened_at"], unique=False)
