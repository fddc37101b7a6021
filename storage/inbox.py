"""The inbox: platform events stored before they are acknowledged, deleted once their turn is committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboundEvent


class InboxRepository:
    """Store, list and drop acknowledged-but-unhandled events."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(self, event_key: str | None, payload: dict[str, Any], now: datetime) -> int | None:
        """Store one event (one statement); return its id, or None if an event with this key is pending."""
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(InboundEvent)
            .values(event_key=event_key, payload=payload, received_at=now)
            .on_conflict_do_nothing(index_elements=["event_key"])
            .returning(InboundEvent.id)
        )
        return await self.session.scalar(statement)

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
