"""In-memory repositories and unit of work with the same methods the core calls, for fast engine tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, Self, TypeVar

from storage.models import (
    AuditEntry,
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
    Rating,
    ReferralCode,
    ReferralRedemption,
)
from storage.repositories import TurnStart

Row = TypeVar("Row")


class FakeRepository(Generic[Row]):
    """Rows in a list; `add` gives each an id like a database would."""

    key = "id"

    def __init__(self) -> None:
        self.rows: list[Row] = []

    async def add(self, row: Row) -> Row:
        if getattr(row, self.key, None) is None:
            setattr(row, self.key, len(self.rows) + 1)
        self.rows.append(row)
        return row

    def stage(self, row: Row) -> Row:
        if getattr(row, self.key, None) is None:
            setattr(row, self.key, len(self.rows) + 1)
        self.rows.append(row)
        return row

    async def get(self, key: object) -> Row | None:
        return next((row for row in self.rows if getattr(row, self.key) == key), None)


class FakeCustomers(FakeRepository[Customer]):
    def __init__(self, conversations: FakeConversations) -> None:
        super().__init__()
        self.conversations = conversations

    async def by_key(self, key: str, *, lock: bool = False) -> Customer | None:
        return next((c for c in self.rows if c.key == key), None)

    async def for_turn(self, key: str, since: datetime) -> TurnStart:
        customer = await self.by_key(key, lock=True)
        if customer is None:
            return TurnStart(None, None, 0, None)
        conversation, recent = await self.conversations.open_with_inbound_since(customer.id, since)
        said = [c for c in self.conversations.rows if c.customer_id == customer.id and c.last_opener_at]
        last = max(said, key=lambda c: (c.last_opener_at, c.id or 0), default=None)
        return TurnStart(customer, conversation, recent, last.last_opener if last else None)


class FakeConversations(FakeRepository[Conversation]):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    async def open_for(self, customer_id: int, *, lock: bool = False) -> Conversation | None:
        found = [c for c in self.rows if c.customer_id == customer_id and c.closed_at is None]
        return found[-1] if found else None

    async def open_with_inbound_since(self, customer_id: int, since: datetime) -> tuple[Conversation | None, int]:
        return await self.open_for(customer_id), await self.inbound_count_since(customer_id, since)

    async def latest_for(self, customer_id: int) -> Conversation | None:
        found = [c for c in self.rows if c.customer_id == customer_id]
        return found[-1] if found else None

    async def add_message(self, message: Message) -> Message:
        self.messages.append(message)
        return message

    async def add_messages(self, messages: Sequence[Message]) -> Sequence[Message]:
        for message in messages:
            message.id = len(self.messages) + 1
            self.messages.append(message)
        return messages

    async def recent_messages(self, conversation_id: int, limit: int = 10) -> Sequence[Message]:
        return [m for m in self.messages if m.conversation_id == conversation_id][-limit:]

    async def inbound_count_since(self, customer_id: int, since: datetime) -> int:
        mine = {c.id for c in self.rows if c.customer_id == customer_id}
        return sum(m.direction == "in" and m.conversation_id in mine and m.created_at >= since for m in self.messages)


class FakeNeeds(FakeRepository[Need]):
    async def open_for(self, customer_id: int) -> Sequence[Need]:
        return [n for n in self.rows if n.customer_id == customer_id and n.status == "open"]

    async def for_customer(self, customer_id: int) -> Sequence[Need]:
        return [n for n in self.rows if n.customer_id == customer_id]


class FakeFeedback(FakeRepository[Rating]):
    def __init__(self) -> None:
        super().__init__()
        self.feedback: list[Feedback] = []
        self.choices: list[ClarifyChoice] = []

    async def add_feedback(self, feedback: Feedback) -> Feedback:
        self.feedback.append(feedback)
        return feedback

    async def add_choice(self, choice: ClarifyChoice) -> ClarifyChoice:
        self.choices.append(choice)
        return choice

    async def rating_for(self, conversation_id: int) -> Rating | None:
        return next((r for r in self.rows if r.conversation_id == conversation_id), None)


class FakeOffers(FakeRepository[Offer]):
    async def since(self, customer_id: int, since: datetime) -> Sequence[Offer]:
        found = [o for o in self.rows if o.customer_id == customer_id and o.created_at >= since]
        return sorted(found, key=lambda o: o.id, reverse=True)


class FakeReferrals(FakeRepository[ReferralCode]):
    key = "code"

    def __init__(self) -> None:
        super().__init__()
        self.redemptions: list[ReferralRedemption] = []

    async def code_of(self, customer_id: int) -> ReferralCode | None:
        return next((c for c in self.rows if c.customer_id == customer_id), None)

    async def redemption_by(self, referred_id: int) -> ReferralRedemption | None:
        return next((r for r in self.redemptions if r.referred_id == referred_id), None)

    async def add_redemption(self, redemption: ReferralRedemption) -> ReferralRedemption:
        self.redemptions.append(redemption)
        return redemption


class FakeFollowUps(FakeRepository[FollowUp]):
    async def claim_due(self, now: datetime, limit: int = 100) -> Sequence[FollowUp]:
        return [f for f in self.rows if f.status == "scheduled" and f.due_at <= now][:limit]

    async def for_customer(self, customer_id: int, status: str) -> Sequence[FollowUp]:
        return [f for f in self.rows if f.customer_id == customer_id and f.status == status]


class FakeHandoffs(FakeRepository[Handoff]):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[DeskNote] = []

    async def active_for(self, conversation_id: int) -> Handoff | None:
        return next((h for h in self.rows if h.conversation_id == conversation_id
                     and h.status in ("queued", "claimed")), None)

    async def queue(self) -> Sequence[Handoff]:
        queued = [h for h in self.rows if h.status == "queued"]
        return sorted(queued, key=lambda h: (-h.priority, h.created_at))

    async def held_by(self, agent_key: str) -> Sequence[Handoff]:
        return [h for h in self.rows if h.status == "claimed" and h.agent_key == agent_key]

    async def fresh(self, handoff_id: int) -> Handoff | None:
        return await self.get(handoff_id)

    async def claim(self, handoff_id: int, agent_key: str, now: datetime) -> bool:
        ticket = await self.get(handoff_id)
        if ticket is None or ticket.status != "queued":
            return False
        ticket.status, ticket.agent_key, ticket.claimed_at = "claimed", agent_key, now
        return True

    async def transfer(self, handoff_id: int, from_key: str, to_key: str) -> bool:
        ticket = await self.get(handoff_id)
        if ticket is None or ticket.status != "claimed" or ticket.agent_key != from_key:
            return False
        ticket.agent_key = to_key
        return True

    async def add_note(self, note: DeskNote) -> DeskNote:
        note.id = len(self.notes) + 1
        self.notes.append(note)
        return note

    async def notes_for(self, handoff_id: int) -> Sequence[DeskNote]:
        return [n for n in self.notes if n.handoff_id == handoff_id]


class FakeEvents:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def claim(self, event_key: str, now: datetime) -> bool:
        if event_key in self.seen:
            return False
        self.seen.add(event_key)
        return True


class FakePrivacy:
    """Export and erase over the other fakes, enough for the engine's data requests."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    async def export(self, customer: Customer) -> dict[str, Any]:
        return {"customer": customer.key}

    async def erase(self, customer: Customer) -> None:
        conversations = {c.id for c in self.uow.conversations.rows if c.customer_id == customer.id}
        self.uow.conversations.rows = [c for c in self.uow.conversations.rows if c.id not in conversations]
        self.uow.conversations.messages = [
            m for m in self.uow.conversations.messages if m.conversation_id not in conversations
        ]
        self.uow.customers.rows = [c for c in self.uow.customers.rows if c.id != customer.id]


class FakeAudit(FakeRepository[AuditEntry]):
    async def latest(self, limit: int = 100) -> Sequence[AuditEntry]:
        return list(reversed(self.rows))[:limit]


class FakeOutbox:
    """Mark stored outbound messages sent; the sweep's queries are tested on real databases."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    async def store(self, messages: Sequence[Message]) -> Sequence[Message]:
        for message in messages:
            message.id = len(self.uow.conversations.messages) + 1
            self.uow.conversations.messages.append(message)
        return messages

    async def mark_sent(self, message_ids: Sequence[int], now: datetime) -> int:
        unsent = [m for m in self.uow.conversations.messages if m.id in message_ids and m.sent_at is None]
        for message in unsent:
            message.sent_at = now
        return len(unsent)

    async def unsent(self, *, before: datetime, since: datetime, platforms: Sequence[str],
                     limit: int = 100) -> list[tuple[int, str]]:
        return []

    async def claim(self, message_id: int) -> None:
        return None


class FakeInbox:
    """Pending platform events in a dict, as the inbox table holds them."""

    def __init__(self) -> None:
        self.events: dict[int, tuple[str | None, dict[str, Any], datetime]] = {}

    async def store(self, events: Sequence[tuple[str, dict[str, Any]]], now: datetime) -> dict[str, int]:
        stored: dict[str, int] = {}
        for event_key, payload in events:
            if event_key in stored or any(key == event_key for key, _, _ in self.events.values()):
                continue
            stored[event_key] = len(self.events) + 1
            self.events[stored[event_key]] = (event_key, payload, now)
        return stored

    async def done(self, event_ids: Sequence[int]) -> None:
        for event_id in event_ids:
            self.events.pop(event_id, None)

    async def pending(self, before: datetime, since: datetime, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
        return [(i, payload) for i, (_, payload, at) in sorted(self.events.items()) if since <= at < before][:limit]


class FakeUnitOfWork:
    """Every repository in memory; `committed` counts commits so tests can see only the unit commits."""

    def __init__(self) -> None:
        self.conversations = FakeConversations()
        self.customers = FakeCustomers(self.conversations)
        self.needs = FakeNeeds()
        self.feedback = FakeFeedback()
        self.offers = FakeOffers()
        self.referrals = FakeReferrals()
        self.followups = FakeFollowUps()
        self.handoffs = FakeHandoffs()
        self.events = FakeEvents()
        self.privacy = FakePrivacy(self)
        self.audit = FakeAudit()
        self.outbox = FakeOutbox(self)
        self.inbox = FakeInbox()
        self.committed = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    async def commit(self) -> None:
        self.committed += 1

    async def rollback(self) -> None:
        return None
