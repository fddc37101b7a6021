"""The outbox: outbound messages are stored with the turn, marked sent once delivered, retried if not.

Every customer-bound message is a `messages` row (direction "out") written in the transaction of the
turn that produced it, with `sent_at` NULL. The hub marks it sent once the platform accepted it; a
row still unsent some time later (its process died, or the platform failed) is claimed here, one at
a time and by one process only, and delivered again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, Customer, Message


@dataclass(frozen=True)
class Unsent:
    """An outbound message not yet marked sent, with what it takes to send it again."""

    message_id: int
    conversation_id: int
    customer_key: str
    channel_id: str | None
    thread_id: str | None
    kind: str | None
    text: str
    buttons: list[dict[str, str]] | None
    created_at: datetime


class OutboxRepository:
    """Find, claim and mark outbound messages."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(self, messages: Sequence[Message]) -> Sequence[Message]:
        """Stage outbound messages and flush, so each has the id its reply carries to the hub."""
        self.session.add_all(messages)
        await self.session.flush()
        return messages

    async def mark_sent(self, message_ids: Sequence[int], now: datetime) -> int:
        """Mark these messages sent (one statement); return how many were still unsent."""
        if not message_ids:
            return 0
        statement = (
            update(Message)
            .where(Message.id.in_(message_ids), Message.sent_at.is_(None))
            .values(sent_at=now)
            .execution_options(synchronize_session=False)
        )
        result: CursorResult[tuple[()]] = await self.session.execute(statement)  # type: ignore[assignment]
        return int(result.rowcount or 0)

    async def unsent(
        self, *, before: datetime, since: datetime, platforms: Sequence[str], limit: int = 100
    ) -> list[tuple[int, str]]:
        """Return (message id, customer key) of outbound messages unsent, created between the two times.

        Only messages for customers of `platforms` (the channels this process runs), oldest first; the
        partial index `ix_messages_unsent` holds exactly the unsent outbound rows.
        """
        if not platforms:
            return []
        query = (
            select(Message.id, Customer.key)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .join(Customer, Conversation.customer_id == Customer.id)
            .where(
                Message.direction == "out", Message.sent_at.is_(None),
                Message.created_at < before, Message.created_at >= since,
                or_(*(Customer.key.startswith(f"{platform}:", autoescape=True) for platform in platforms)),
            )
            .order_by(Message.created_at, Message.id)
            .limit(limit)
        )
        return [(int(row[0]), str(row[1])) for row in await self.session.execute(query)]

    async def claim(self, message_id: int) -> Unsent | None:
        """Lock one unsent outbound message for this transaction, or None if sent or held by another process.

        `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two processes sweeping at once never both send it;
        SQLite ignores the clause, so there a no-op write takes the database's write lock first: a second
        claimer waits until this transaction ends, then finds the message sent.
        """
        if self.session.bind is not None and self.session.bind.dialect.name == "sqlite":
            await self.session.execute(
                update(Message).where(Message.id == message_id, Message.sent_at.is_(None))
                .values(sent_at=None).execution_options(synchronize_session=False)
            )
        query = (
            select(Message, Conversation.channel_id, Conversation.thread_id, Customer.key)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .join(Customer, Conversation.customer_id == Customer.id)
            .where(Message.id == message_id, Message.direction == "out", Message.sent_at.is_(None))
            .with_for_update(skip_locked=True, of=Message)
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        message, channel_id, thread_id, key = row
        return Unsent(
            message_id=message.id, conversation_id=message.conversation_id, customer_key=key,
            channel_id=channel_id, thread_id=thread_id, kind=message.kind, text=message.text,
            buttons=message.buttons, created_at=message.created_at,
        )
