"""index handoffs by conversation for the per-message ticket lookup

`HandoffRepository.active_for(conversation_id)` runs on every message of a customer waiting for or
talking to a person, and on every request for one; without this index SQLite scans the whole handoffs
table (found by benchmarks/engine_plans.py; PostgreSQL got by with the status index).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index("ix_handoffs_conversation_status", ["conversation_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index("ix_handoffs_conversation_status")
