"""stats customers: each conversation carries when its customer's two previous conversations opened

`conversations.previous_opened_at` and `second_previous_opened_at` are the opening times of the same
customer's conversations just before it (ordered by opening time, then id; NULL where there is none). A
period's distinct customers are then its conversations whose previous one opened before the period (each
customer's first there), and the customers who came back are its conversations whose previous one is inside
the period but the one before that is not (each such customer's second there): plain counts over
`conversations (opened_at, previous_opened_at, second_previous_opened_at)`, instead of grouping or sorting
the period's conversations by customer.

Database triggers keep both exact for any insert order (a bulk load, a skewed clock) and on deletes: a new
conversation looks up its two predecessors, and the two conversations after a new or deleted one look theirs
up again (only those can change). The engine opens a customer's conversations one at a time, always as the
latest, so there the lookups after it find nothing. Opening times and owners are never changed.

SQLite drops a table's triggers when a batch migration recreates the table: a later migration that rebuilds
`conversations` on SQLite must create these triggers again (tests/integration/test_stats_facts.py fails
otherwise).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The opening time of the customer's conversation `skip` + 1 places before row {row}, by (opened_at, id).
BEFORE = """SELECT c.opened_at FROM conversations c WHERE c.customer_id = {row}.customer_id
    AND (c.opened_at < {row}.opened_at OR (c.opened_at = {row}.opened_at AND c.id < {row}.id))
    ORDER BY c.opened_at DESC, c.id DESC LIMIT 1 OFFSET {skip}"""
# The ids of the customer's two conversations just after row {row}.
NEXT_TWO = """SELECT c.id FROM conversations c WHERE c.customer_id = {row}.customer_id
    AND (c.opened_at > {row}.opened_at OR (c.opened_at = {row}.opened_at AND c.id > {row}.id))
    ORDER BY c.opened_at, c.id LIMIT 2"""
LOOK_UP = "UPDATE conversations SET previous_opened_at = ({first}), second_previous_opened_at = ({second})".format(  # noqa: S608 - constant SQL
    first=BEFORE.format(row="conversations", skip=0), second=BEFORE.format(row="conversations", skip=1))
NEW_ROW = f"{LOOK_UP} WHERE id = NEW.id"
AFTER_NEW = f"{LOOK_UP} WHERE id IN ({NEXT_TWO.format(row='NEW')})"
AFTER_OLD = f"{LOOK_UP} WHERE id IN ({NEXT_TWO.format(row='OLD')})"

SQLITE_TRIGGERS = {
    "trg_stats_conversation_insert": f"AFTER INSERT ON conversations BEGIN {NEW_ROW}; {AFTER_NEW}; END",
    "trg_stats_conversation_delete": f"AFTER DELETE ON conversations BEGIN {AFTER_OLD}; END",
}
POSTGRES_FUNCTION = f"""BEGIN
    IF TG_OP = 'INSERT' AND TG_WHEN = 'BEFORE' THEN
        NEW.previous_opened_at := ({BEFORE.format(row="NEW", skip=0)});
        NEW.second_previous_opened_at := ({BEFORE.format(row="NEW", skip=1)});
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        {AFTER_NEW};
        RETURN NEW;
    END IF;
    {AFTER_OLD};
    RETURN OLD;
END"""
POSTGRES_TRIGGERS = {
    "trg_stats_conversation_before": ("BEFORE INSERT ON conversations FOR EACH ROW "
                                      "EXECUTE FUNCTION stats_conversation_facts()"),
    "trg_stats_conversation_after": ("AFTER INSERT OR DELETE ON conversations FOR EACH ROW "
                                     "EXECUTE FUNCTION stats_conversation_facts()"),
}
INDEX = ["opened_at", "previous_opened_at", "second_previous_opened_at"]


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_opened_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("second_previous_opened_at", sa.DateTime(), nullable=True))
        batch_op.drop_index("ix_conversations_opened_customer")
        batch_op.create_index("ix_conversations_opened_previous", INDEX, unique=False)
    op.execute(LOOK_UP)
    # Last: on SQLite a batch rebuild of the table (above) would drop its triggers.
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    op.execute(f"CREATE FUNCTION stats_conversation_facts() RETURNS trigger LANGUAGE plpgsql "
               f"AS $$ {POSTGRES_FUNCTION} $$")
    for name, body in POSTGRES_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON conversations")
        op.execute("DROP FUNCTION IF EXISTS stats_conversation_facts()")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_opened_previous")
        batch_op.create_index("ix_conversations_opened_customer", ["opened_at", "customer_id"], unique=False)
        batch_op.drop_column("second_previous_opened_at")
        batch_op.drop_column("previous_opened_at")
