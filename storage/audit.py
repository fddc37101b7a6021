"""The audit log's queries: add an entry, read the latest ones."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


class AuditRepository:
    """Append-only record of privileged actions; written with the unit of work's commit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: AuditEntry) -> AuditEntry:
        """Stage one entry."""
        self.session.add(entry)
        return entry

    async def latest(self, limit: int = 100) -> Sequence[AuditEntry]:
        """Return the most recent entries, newest first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()
