"""The unit of work: one transaction, its repositories, and the only place that commits."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.exc import IntegrityError as WriteConflict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage.audit import AuditRepository
from storage.inbox import InboxRepository
from storage.outbox import OutboxRepository
from storage.privacy import PrivacyRepository
from storage.repositories import (
    ConversationRepository,
    CustomerRepository,
    EventRepository,
    FeedbackRepository,
    FollowUpRepository,
    HandoffRepository,
    NeedRepository,
    OfferRepository,
    ReferralRepository,
)
from storage.rows import write_rows
from storage.stats_queries import StatsQueries

__all__ = ["SqlUnitOfWork", "UnitOfWork", "UnitOfWorkFactory", "WriteConflict"]


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving without `commit` rolls back."""

    customers: CustomerRepository
    conversations: ConversationRepository
    needs: NeedRepository
    feedback: FeedbackRepository
    offers: OfferRepository
    referrals: ReferralRepository
    followups: FollowUpRepository
    handoffs: HandoffRepository
    events: EventRepository
    privacy: PrivacyRepository
    audit: AuditRepository
    outbox: OutboxRepository
    inbox: InboxRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def stats(self, since: datetime | None, min_rating: int) -> StatsQueries: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


# SQLite has one writer at a time. Connections of one process that meet there wait in SQLite's busy
# handler, which sleeps in steps of up to 100 ms: eight concurrent turns gave a p99 of one second.
# Taking turns on an asyncio lock first costs nothing and keeps the busy wait for other processes.
_sqlite_writers: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
# Set while this task holds its database's writer lock, so a unit of work opened inside another's does
# not wait for itself.
_holding_writer: ContextVar[bool] = ContextVar("holding_sqlite_writer", default=False)


def _writer_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    bind = sessions.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite" or _holding_writer.get():
        return None
    lock = _sqlite_writers.get(sessions)
    if lock is None:
        lock = _sqlite_writers[sessions] = asyncio.Lock()
    return lock


class SqlUnitOfWork:
    """A unit of work over one SQLAlchemy AsyncSession."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._writer: asyncio.Lock | None = None

    async def __aenter__(self) -> Self:
        self._writer = _writer_lock(self._sessions)
        if self._writer is not None:
            await self._writer.acquire()
            self._holding = _holding_writer.set(True)
        self.session = self._sessions()
        self.customers = CustomerRepository(self.session)
        self.conversations = ConversationRepository(self.session)
        self.needs = NeedRepository(self.session)
        self.feedback = FeedbackRepository(self.session)
        self.offers = OfferRepository(self.session)
        self.referrals = ReferralRepository(self.session)
        self.followups = FollowUpRepository(self.session)
        self.handoffs = HandoffRepository(self.session)
        self.events = EventRepository(self.session)
        self.privacy = PrivacyRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.inbox = InboxRepository(self.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            # Closing ends whatever was not committed (a rollback) and returns the connection: one call.
            await self.session.close()
        finally:
            if self._writer is not None:
                _holding_writer.reset(self._holding)
                self._writer.release()

    def stats(self, since: datetime | None, min_rating: int) -> StatsQueries:
        """Return the stats queries for conversations since a moment, in this transaction."""
        return StatsQueries(self.session, since, min_rating)

    async def commit(self) -> None:
        """Make everything staged in this unit of work permanent."""
        await self.session.run_sync(_write_and_commit)

    async def rollback(self) -> None:
        """Discard everything staged in this unit of work."""
        await self.session.rollback()


# One call into SQLAlchemy's synchronous session: every `await` on an AsyncSession method starts a
# greenlet of its own.
def _write_and_commit(session: Session) -> None:
    # Written first with plain statements (storage/rows.py), so the commit's flush has nothing left to do.
    write_rows(session)
    session.commit()

