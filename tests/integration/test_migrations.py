"""The migrations build exactly the schema the models declare, so `concierge db upgrade` is never behind."""

from datetime import datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from storage.database import create_engine, upgrade
from storage.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == [], "models and migrations disagree; add a migration"


async def test_upgrade_keeps_each_customers_last_opener(database_url: str) -> None:
    """Rule 1 holds across 0012: a customer's last opener moves to their latest conversation."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0011")
        async with engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO customers (id, key, opted_out, vip, created_at, last_opener) VALUES "
                "(1, 'console:ann', false, false, :at, 'Happy to help with that.'), "
                "(2, 'console:bob', false, false, :at, NULL)"
            ), {"at": datetime(2026, 1, 1)})
            for conversation_id, customer_id, day in ((1, 1, 2), (2, 1, 3), (3, 2, 4)):
                await connection.execute(text(
                    "INSERT INTO conversations (id, customer_id, state, context, failed_attempts, frustrated, "
                    "opened_at, last_message_at) VALUES (:id, :customer, 'idle', '{}', 0, false, :at, :at)"
                ), {"id": conversation_id, "customer": customer_id, "at": datetime(2026, 1, day)})
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = (await connection.execute(text(
                "SELECT id, last_opener, last_opener_at = last_message_at FROM conversations ORDER BY id"
            ))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [(1, None, None), (2, "Happy to help with that.", True), (3, None, None)]
