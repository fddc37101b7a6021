"""The unit of work: one transaction, its repositories, and the only place that commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.exc import IntegrityError as WriteConflict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


class SqlUnitOfWork:
    """A unit of work over one SQLAlchemy AsyncSession."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
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
            await self.session.rollback()
        finally:
            await self.session.close()

    def stats(self, since: datetime | None, min_rating: int) -> StatsQueries:
        """Return the stats queries for conversations since a moment, in this transaction."""
        return StatsQueries(self.session, since, min_rating)

    async def commit(self) -> None:
        """Make everything staged in this unit of work permanent."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Discard everything staged in this unit of work."""
        await self.session.rollback()
