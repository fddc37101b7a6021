"""The hub's outbox over the database: mark replies sent, find the unsent, claim and send one again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.hub import Send
from handlers.messages import Button, Kind, Reply
from storage.outbox import Unsent
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxTiming:
    """When an unsent message counts as stuck, and when it is too old to be worth sending."""

    retry_after: timedelta = timedelta(seconds=30)
    give_up_after: timedelta = timedelta(hours=24)


class SqlOutbox:
    """The outbox on the `messages` table (see storage/outbox.py)."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, clock: Callable[[], datetime], timing: OutboxTiming) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.timing = timing

    async def mark_sent(self, message_ids: Sequence[int]) -> None:
        """Mark delivered messages sent, in one statement and one transaction."""
        async with self.unit_of_work() as uow:
            await uow.outbox.mark_sent(message_ids, self.clock())
            await uow.commit()

    async def unsent(self, platforms: Sequence[str]) -> list[tuple[int, str]]:
        """Return (message id, customer key) of messages unsent for longer than `retry_after`."""
        now = self.clock()
        async with self.unit_of_work() as uow:
            return await uow.outbox.unsent(
                before=now - self.timing.retry_after, since=now - self.timing.give_up_after, platforms=platforms
            )

    async def resend(self, message_id: int, send: Send) -> bool:
        """Claim one unsent message and send it; mark it sent, in the claiming transaction, if that worked."""
        async with self.unit_of_work() as uow:
            unsent = await uow.outbox.claim(message_id)
            if unsent is None:
                return False  # sent meanwhile, or another process holds it
            if not await send(reply_of(unsent)):
                return False
            await uow.outbox.mark_sent([message_id], self.clock())
            await uow.commit()
            return True


def reply_of(unsent: Unsent) -> Reply:
    """Rebuild the reply a stored outbound message was, addressed where its conversation is."""
    platform, _, user_id = unsent.customer_key.partition(":")
    kind = next((k for k in Kind if k.value == unsent.kind), Kind.NOTICE)
    buttons = tuple(Button(b["id"], b["label"]) for b in unsent.buttons or ())
    return Reply(platform, user_id, kind, unsent.text, buttons, channel_id=unsent.channel_id,
                 thread_id=unsent.thread_id, conversation_id=unsent.conversation_id, message_id=unsent.message_id)
