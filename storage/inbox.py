"""The inbox: platform events stored before they are acknowledged, deleted once their turn is committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.models import Base, InboundEvent
from storage.wal_checkpoints import database_file


def inbox_url(database_url: str) -> str:
    """Where the inbox lives: the database itself, or for a SQLite file a second file next to it.

    SQLite has one writer at a time: an event stored before its ack would wait behind every turn's
    write, and SQLite's busy wait sleeps in steps of up to 100 ms. In a file of its own it only meets
    other inbox writes, each one row.
    """
    path = database_file(database_url)
    if path is None:
        return database_url
    return make_url(database_url).set(database=f"{path}-inbox").render_as_string(hide_password=False)


async def create_inbox(engine: AsyncEngine) -> None:
    """Create the inbox table in a SQLite inbox file (the migrations create it in the main database)."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all, tables=[Base.metadata.tables["inbound_events"]],
                                  checkfirst=True)


class InboxRepository:
    """Store, list and drop acknowledged-but-unhandled events."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(self, events: Sequence[tuple[str, dict[str, Any]]], now: datetime) -> dict[str, int]:
        """Store events (key, payload) in one statement; return the new ids by key.

        A key already pending (or twice in `events`) is stored once: the unique key decides, so two
        processes receiving the same delivery cannot both store it.
        """
        if not events:
            return {}
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(InboundEvent)
            .values([{"event_key": key, "payload": payload, "received_at": now} for key, payload in events])
            .on_conflict_do_nothing(index_elements=["event_key"])
            .returning(InboundEvent.id, InboundEvent.event_key)
        )
        return {str(row[1]): int(row[0]) for row in await self.session.execute(statement)}

    async def done(self, event_ids: Sequence[int]) -> None:
        """Drop handled events (their words are stored, redacted, by the turn)."""
        if event_ids:
            await self.session.execute(delete(InboundEvent).where(InboundEvent.id.in_(event_ids)))

    async def pending(self, before: datetime, since: datetime, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
        """Return (id, payload) of events received between `since` and `before`, not yet handled, oldest first."""
        query = (
            select(InboundEvent.id, InboundEvent.payload)
            .where(InboundEvent.received_at < before, InboundEvent.received_at >= since)
            .order_by(InboundEvent.id)
            .limit(limit)
        )
        return [(int(row[0]), dict(row[1])) for row in await self.session.execute(query)]
