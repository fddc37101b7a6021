"""Repositories: the queries the core needs, one class per kind of record, over an AsyncSession.

Repositories add and read; they never commit. `add` writes the new row at once, so it has its id;
`stage` leaves a row for the next flush, which saves a statement when nothing needs its id. A read
flushes first only when the session holds unwritten rows of the tables it reads (`_read_of`): what
the turn changed elsewhere is written once, at its end, instead of once per read.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import (
    CursorResult,
    delete,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage import turn_statements as statements
from storage.models import (
    Base,
    ClarifyChoice,
    Conversation,
    Customer,
    DeskNote,
    Feedback,
    FollowUp,
    Handoff,
    Message,
    Need,
    Offer,
    ProcessedEvent,
    Rating,
    ReferralCode,
    ReferralRedemption,
)
from storage.rows import insert_row, insert_rows, row_values
from storage.turn_statements import inbound_count

Row = TypeVar("Row", bound=Base)


class TurnStart(NamedTuple):
    """What a customer's turn starts from (None, None, 0, None for a customer not seen before)."""

    customer: Customer | None
    conversation: Conversation | None  # the open one
    recent_inbound: int  # what they sent within the flood window, before this message
    last_opener: str | None  # the empathy opener they got last, in any conversation


class SqlRepository(Generic[Row]):
    """Add and fetch one kind of record by primary key."""

    model: type[Row]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: Row) -> Row:
        """Write a new row now, so it has its id, and keep it in the session like a loaded one.

        One INSERT … RETURNING of this row alone: a flush would also write everything else the turn
        has changed so far, only to write it again at the end, and costs several times the INSERT.
        """
        return await insert_row(self.session, row)

    def stage(self, row: Row) -> Row:
        """Stage a new row for the next flush, when nothing needs its id before then."""
        self.session.add(row)
        return row

    async def get(self, key: object) -> Row | None:
        """Fetch one row by primary key."""
        if any(isinstance(row, self.model) for row in self.session.new):
            return await self.session.get(self.model, key)
        # A row fetched by key cannot be changed by what is waiting to be flushed, unless a row of this
        # kind is itself waiting (checked above): so no flush first, and the turn's writes stay together.
        with self.session.no_autoflush:
            return await self.session.get(self.model, key)


class CustomerRepository(SqlRepository[Customer]):
    model = Customer

    async def by_key(self, key: str, *, lock: bool = False) -> Customer | None:
        """Fetch a customer by key ("slack:U123"); with `lock`, hold the row so their turns run one at a time."""
        query = statements.CUSTOMER_BY_KEY_LOCKED if lock else statements.CUSTOMER_BY_KEY
        return await self.session.scalar(query, {"key": key})

    async def for_turn(self, key: str, since: datetime) -> TurnStart:
        """Fetch and lock a customer by key, with what their turn starts from (`TurnStart`).

        The customer's row lock orders their turns across processes, so on PostgreSQL it is taken
        first and the rest is read under it (a second statement). SQLite has no row locks (a writer
        holds the whole database), so one statement reads it all there. Either way the need the
        conversation waits on comes along (`_hold`), so the use case's `needs.get` of it runs no query.
        """
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        if dialect != "sqlite":
            customer = await self.by_key(key, lock=True)
            if customer is None:
                return TurnStart(None, None, 0, None)
            parameters = {"customer_id": customer.id, "since": since}
            recent, conversation, awaited, last_opener = (
                await self.session.execute(statements.OPEN_WITH_INBOUND, parameters)
            ).one()
            _hold(self.session, awaited)
            return TurnStart(customer, conversation, int(recent or 0), last_opener)
        row = (await self.session.execute(statements.CUSTOMER_FOR_TURN, {"key": key, "since": since})).first()
        if row is None:
            return TurnStart(None, None, 0, None)
        customer, recent, conversation, awaited, last_opener = row
        _hold(self.session, awaited)
        return TurnStart(customer, conversation, int(recent or 0), last_opener)


class ConversationRepository(SqlRepository[Conversation]):
    model = Conversation

    async def open_for(self, customer_id: int, *, lock: bool = False) -> Conversation | None:
        """Fetch the customer's open conversation; with `lock`, hold its row until commit."""
        query = select(Conversation).where(
            Conversation.customer_id == customer_id, Conversation.closed_at.is_(None)
        ).order_by(Conversation.id.desc()).limit(1)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def latest_for(self, customer_id: int) -> Conversation | None:
        """Fetch the customer's most recent conversation, open or closed."""
        return await self.session.scalar(statements.LATEST_CONVERSATION, {"customer_id": customer_id})

    async def add_message(self, message: Message) -> Message:
        """Record one inbound or outbound message (written with the commit; nothing needs its id sooner)."""
        self.session.add(message)
        return message

    async def recent_messages(self, conversation_id: int, limit: int = 10) -> Sequence[Message]:
        """Return the last `limit` messages of a conversation, oldest first."""
        query = select(Message).where(Message.conversation_id == conversation_id)
        rows = (await self.session.scalars(query.order_by(Message.id.desc()).limit(limit))).all()
        return list(reversed(rows))

    async def inbound_count_since(self, customer_id: int, since: datetime) -> int:
        """Count what the customer sent since `since`, in any conversation (by index, across processes)."""
        return int(await self.session.scalar(inbound_count(customer_id, since)) or 0)

    async def add_messages(self, messages: Sequence[Message]) -> Sequence[Message]:
        """Record messages, with any staged by `add_message` and not yet written, in one INSERT; set their ids.

        The ORM would write them one statement each on SQLite; one multi-row INSERT … RETURNING is one
        round trip on both databases. The rows get ids in the order of the VALUES list (one statement,
        ids drawn row by row), so the sorted ids are theirs in that order.
        """
        staged = sorted((row for row in self.session.new if isinstance(row, Message)),
                        key=lambda row: inspect(row).insert_order or 0)
        for row in staged:
            self.session.expunge(row)
        rows = [*staged, *messages]
        if rows:
            table = Base.metadata.tables[Message.__tablename__]
            values = [row_values(row, table) for row in rows]
            for row_value in values:
                del row_value["id"]
            keys = await self.session.run_sync(insert_rows, table, values)
            for row, key in zip(rows, keys, strict=True):
                row.id = key
        return messages


class NeedRepository(SqlRepository[Need]):
    model = Need

    async def open_for(self, customer_id: int) -> Sequence[Need]:
        """Return the customer's needs still open, oldest first."""
        with _read_of(self.session, Need):
            return (await self.session.scalars(statements.OPEN_NEEDS, {"customer_id": customer_id})).all()

    async def for_customer(self, customer_id: int) -> Sequence[Need]:
        """Return every need on the customer's record, oldest first."""
        with _read_of(self.session, Need):
            return (await self.session.scalars(statements.NEEDS, {"customer_id": customer_id})).all()


class FeedbackRepository(SqlRepository[Rating]):
    model = Rating

    async def add_feedback(self, feedback: Feedback) -> Feedback:
        """Record what a customer said went wrong (written with the next flush; nothing needs its id)."""
        self.session.add(feedback)
        return feedback

    async def add_choice(self, choice: ClarifyChoice) -> ClarifyChoice:
        """Record a customer's answer to a clarifying question (written with the next flush)."""
        self.session.add(choice)
        return choice

    async def rating_for(self, conversation_id: int) -> Rating | None:
        """Return the conversation's rating, if given."""
        with _read_of(self.session, Rating):
            return await self.session.scalar(statements.RATING, {"conversation_id": conversation_id})


class OfferRepository(SqlRepository[Offer]):
    model = Offer

    async def since(self, customer_id: int, since: datetime) -> Sequence[Offer]:
        """Return the customer's offers made at or after `since`, newest first."""
        parameters = {"customer_id": customer_id, "since": since}
        with _read_of(self.session, Offer):
            return (await self.session.scalars(statements.OFFERS_SINCE, parameters)).all()


class ReferralRepository(SqlRepository[ReferralCode]):
    model = ReferralCode

    async def code_of(self, customer_id: int) -> ReferralCode | None:
        """Return the customer's personal referral code, if they have one."""
        with _read_of(self.session, ReferralCode):
            return await self.session.scalar(select(ReferralCode).where(ReferralCode.customer_id == customer_id))

    async def redemption_by(self, referred_id: int) -> ReferralRedemption | None:
        """Return how this customer was referred, if they were."""
        query = select(ReferralRedemption).where(ReferralRedemption.referred_id == referred_id)
        return await self.session.scalar(query)

    async def add_redemption(self, redemption: ReferralRedemption) -> ReferralRedemption:
        """Link a new customer to the customer whose code they brought (written with the next flush)."""
        self.session.add(redemption)
        return redemption


class FollowUpRepository(SqlRepository[FollowUp]):
    model = FollowUp

    async def claim_due(self, now: datetime, limit: int = 100) -> Sequence[FollowUp]:
        """Lock and return due follow-ups that no other process has claimed (SKIP LOCKED)."""
        query = (
            select(FollowUp)
            .where(FollowUp.status == "scheduled", FollowUp.due_at <= now)
            .order_by(FollowUp.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(query)).all()

    async def for_customer(self, customer_id: int, status: str) -> Sequence[FollowUp]:
        """Return the customer's follow-ups in one status, oldest first."""
        parameters = {"customer_id": customer_id, "status": status}
        with _read_of(self.session, FollowUp):
            return (await self.session.scalars(statements.FOLLOWUPS_IN_STATUS, parameters)).all()


class HandoffRepository(SqlRepository[Handoff]):
    model = Handoff

    async def active_for(self, conversation_id: int) -> Handoff | None:
        """Return the conversation's queued or claimed handoff."""
        query = select(Handoff).where(
            Handoff.conversation_id == conversation_id, Handoff.status.in_(("queued", "claimed"))
        )
        return await self.session.scalar(query.order_by(Handoff.id.desc()).limit(1))

    async def queue(self) -> Sequence[Handoff]:
        """Return queued tickets, most urgent first, then longest waiting."""
        query = select(Handoff).where(Handoff.status == "queued")
        return (await self.session.scalars(query.order_by(Handoff.priority.desc(), Handoff.created_at))).all()

    async def held_by(self, agent_key: str) -> Sequence[Handoff]:
        """Return the tickets an agent holds, oldest first."""
        query = select(Handoff).where(Handoff.status == "claimed", Handoff.agent_key == agent_key)
        return (await self.session.scalars(query.order_by(Handoff.id))).all()

    async def fresh(self, handoff_id: int) -> Handoff | None:
        """Fetch a ticket as the database has it now, not as this session last saw it."""
        return await self.session.get(Handoff, handoff_id, populate_existing=True)

    async def claim(self, handoff_id: int, agent_key: str, now: datetime) -> bool:
        """Give a queued ticket to one agent; False if someone else got it first.

        One conditional UPDATE: the database re-checks `status = 'queued'` under the row lock, so of
        any number of agents claiming at once exactly one changes a row.
        """
        statement = (
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status == "queued")
            .values(status="claimed", agent_key=agent_key, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        return _changed(await self.session.execute(statement))

    async def transfer(self, handoff_id: int, from_key: str, to_key: str) -> bool:
        """Move a claimed ticket from its holder to another agent; False if `from_key` no longer holds it."""
        statement = (
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status == "claimed", Handoff.agent_key == from_key)
            .values(agent_key=to_key)
            .execution_options(synchronize_session=False)
        )
        return _changed(await self.session.execute(statement))

    async def add_note(self, note: DeskNote) -> DeskNote:
        """Record an agent's internal note on a ticket."""
        self.session.add(note)
        await self.session.flush()
        return note

    async def notes_for(self, handoff_id: int) -> Sequence[DeskNote]:
        """Return a ticket's internal notes, oldest first."""
        query = select(DeskNote).where(DeskNote.handoff_id == handoff_id)
        return (await self.session.scalars(query.order_by(DeskNote.id))).all()


class EventRepository:
    """Remember platform delivery ids so a retried or replayed event is handled once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, event_key: str, now: datetime) -> bool:
        """Record the event id; return False if it was already recorded (by any process).

        One statement, `INSERT … ON CONFLICT DO NOTHING RETURNING`, on SQLite and PostgreSQL alike: the
        unique key decides, so two processes racing on the same retry cannot both win.
        """
        insert = _insert_for(self.session.bind.dialect.name if self.session.bind else "sqlite")
        statement = (
            insert(ProcessedEvent)
            .values(event_key=event_key, created_at=now)
            .on_conflict_do_nothing(index_elements=["event_key"])
            .returning(ProcessedEvent.id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def forget_before(self, cutoff: datetime) -> None:
        """Drop ids older than any platform retries, to keep the table small."""
        await self.session.execute(delete(ProcessedEvent).where(ProcessedEvent.created_at < cutoff))


def _changed(result: object) -> bool:
    """Tell whether an UPDATE changed exactly one row."""
    return isinstance(result, CursorResult) and result.rowcount == 1


def _insert_for(dialect: str) -> Any:
    """Return the dialect's INSERT construct, which knows ON CONFLICT."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _read_of(session: AsyncSession, *models: type[Base]) -> AbstractContextManager[object]:
    """Flush before a read of `models`' tables only if rows of theirs are new, changed or deleted, unwritten.

    A query's result cannot depend on unwritten rows of other tables, so those stay for the end of the
    turn: a record changed before a read and again after it is then written once, not twice.
    """
    unwritten = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, models) for row in unwritten):
        return nullcontext()
    without_flush: AbstractContextManager[object] = session.no_autoflush
    return without_flush


def _hold(session: AsyncSession, row: Base | None) -> None:
    """Keep a row loaded ahead of need for the rest of the session: `get` finds it without a query.

    The session's identity map holds unchanged rows weakly, so a row nobody refers to would be gone by then.
    """
    if row is not None:
        session.info.setdefault("held", []).append(row)
