"""The core's entry point: one inbound in, the replies out, everything recorded in one transaction."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from handlers import commands, desk, flood, notices, relay_failure
from handlers.events import classify, is_customer_command
from handlers.flow import Event, EventType, use_case_for
from handlers.followups import fire_due
from handlers.messages import DESK, Inbound, Reply
from handlers.redaction import redact
from handlers.turn import Services, Turn
from storage.models import Conversation, Customer, Message
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory, WriteConflict

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_ANSWER_EVENTS = {EventType.OFFER_ANSWER, EventType.FOLLOWUP_ANSWER, EventType.STALE_BUTTON, EventType.PERSON,
                  EventType.FORGET}
Clock = Callable[[], datetime]


class Concierge:
    """Handle what users do and fire due follow-ups; adapters deliver the replies."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, services: Services, clock: Clock) -> None:
        self.unit_of_work = unit_of_work
        self.services = services
        self.clock = clock

    relay_failed = relay_failure.relay_failed  # a person's words refused by the platform: the desk's notice

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Run one inbound through the state table and return the replies (none for a duplicate event)."""
        inbound = self._clean(inbound)
        if inbound.command and not is_customer_command(inbound.command):
            return await commands.run(inbound, self.unit_of_work, self.services, self.clock())
        if inbound.button_id is not None and desk.is_desk_button(inbound.button_id):
            # A ticket card's button is an agent's act on the desk, not a turn of their own conversation.
            return await desk.run(inbound, self.unit_of_work, self.services, self.clock())
        if inbound.button_owner is not None and inbound.button_owner != inbound.user_id:
            # Someone else's buttons in a shared channel: not the owner's answer and not a turn of the
            # presser's, so nothing is stored and the owner's conversation stays where it was.
            return [notices.not_your_buttons(inbound, self.services.templates)]
        try:
            return await self._handle_turn(inbound)
        except WriteConflict:
            # Another process created this customer at the same moment; their row exists now.
            log.info("retrying a turn that raced another process to create its customer")
            return await self._handle_turn(inbound)

    async def _handle_turn(self, inbound: Inbound) -> list[Reply]:
        now = self.clock()
        async with self.unit_of_work() as uow:
            if inbound.event_id and not await uow.events.claim(f"{inbound.platform}:{inbound.event_id}", now):
                log.info("dropped duplicate %s event", inbound.platform)
                return []
            if not inbound.text.strip() and inbound.button_id is None and inbound.command is None:
                await uow.commit()
                return []
            turn = await self._turn(uow, inbound, now)
            event = await classify(inbound, turn.conversation, turn.customer, uow, now)
            await self._settle_conversation(turn, event)
            if not await flood.held_back(turn, event):
                await use_case_for(turn.conversation.state, event)(turn, event)
            await self._record(turn)
            await uow.commit()
            return turn.replies

    async def fire_due_followups(self) -> list[Reply]:
        """Send every follow-up that is due now (each claimed by one process only)."""
        async with self.unit_of_work() as uow:
            replies = await fire_due(uow, self.services, self.clock())
            await uow.commit()
            return replies

    def _clean(self, inbound: Inbound) -> Inbound:
        """Drop control characters and cap the stored length; the customer's words are otherwise kept."""
        text = _CONTROL.sub("", inbound.text).strip()[: self.services.policy.max_stored_chars]
        # Button ids, names and arguments are stored too, and PostgreSQL refuses a NUL in any text.
        button = None if inbound.button_id is None else _CONTROL.sub("", inbound.button_id)
        name = None if inbound.display_name is None else _CONTROL.sub("", inbound.display_name)[:200]
        args = tuple(_CONTROL.sub("", arg) for arg in inbound.args)
        return replace(inbound, text=text, button_id=button, display_name=name, args=args,
                       received_at=inbound.received_at or self.clock())

    async def _turn(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> Turn:
        # The customer's row lock orders their turns even when two processes receive their messages at once;
        # their open conversation and recent messages (for flood control) are read under it.
        customer, conversation, recent, last_opener = await uow.customers.for_turn(
            inbound.user_key, now - flood.WINDOW
        )
        if customer is None:
            customer = await uow.customers.add(Customer(
                key=inbound.user_key, display_name=inbound.display_name, opted_out=False,
                vip=inbound.user_key in self.services.policy.roles.vip, created_at=now,
            ))
        if inbound.display_name and inbound.display_name != customer.display_name:
            customer.display_name = inbound.display_name
        # A customer waiting for a person keeps their conversation however long the queue takes.
        if (conversation and conversation.state != "with_person"
                and now - conversation.last_message_at > self.services.policy.idle_close_after):
            conversation.closed_at, conversation.close_reason = now, "idle"
            conversation = None
        if conversation is None and inbound.button_id is not None:
            conversation = await uow.conversations.latest_for(customer.id)
        turn = Turn(uow, self.services, customer, conversation or _unsaved(customer, now), now, inbound,
                    last_opener=last_opener)
        # This message is stored in this turn, so it counts too.
        turn.recent_inbound = recent + 1
        return turn

    async def _settle_conversation(self, turn: Turn, event: Event) -> None:
        """Use the conversation the event belongs to, opening a new one for a new request."""
        conversation, inbound = turn.conversation, turn.inbound
        assert inbound is not None
        if conversation.id is None or (conversation.closed_at is not None and event.type not in _ANSWER_EVENTS):
            conversation = await self._answering_conversation(turn, event) or _unsaved(turn.customer, turn.now)
        if event.type == EventType.PERSON and conversation.closed_at is not None:
            conversation.closed_at, conversation.close_reason = None, None
        # Assigned only when changed: an unchanged record is not written, and `_record` stamps the time.
        if inbound.channel_id and (conversation.channel_id, conversation.thread_id) != (
                inbound.channel_id, inbound.thread_id):
            conversation.channel_id, conversation.thread_id = inbound.channel_id, inbound.thread_id
        if conversation.id is None:
            # After the channel is set, so a new conversation is written once; its id goes on buttons.
            await turn.uow.conversations.add(conversation)
        turn.conversation = conversation
        if inbound.text and inbound.button_id is None and inbound.command is None:
            # Every message is felt (frustration changes the opener and blocks selling); what it asks
            # for is read only if a use case answers it (`Turn.understood`).
            feeling = self.services.understander.feel(
                inbound.text[: self.services.policy.max_understood_chars],
                failed_attempts=conversation.failed_attempts,
            )
            turn.feeling = feeling
            if feeling.frustrated and not conversation.frustrated:
                conversation.frustrated = True
        await turn.uow.conversations.add_message(Message(
            conversation_id=conversation.id, direction="in", kind=None, text=self._stored(inbound),
            buttons=None, author=None, created_at=turn.now,
        ))

    async def _answering_conversation(self, turn: Turn, event: Event) -> Conversation | None:
        """Return the earlier conversation an answer to an offer or follow-up belongs to."""
        if event.type == EventType.OFFER_ANSWER and event.record_id is not None:
            offer = await turn.uow.offers.get(event.record_id)
            if offer is not None and offer.customer_id == turn.customer.id:
                return await turn.uow.conversations.get(offer.conversation_id)
        if event.type == EventType.FOLLOWUP_ANSWER and event.record_id is not None:
            followup = await turn.uow.followups.get(event.record_id)
            if followup is not None and followup.customer_id == turn.customer.id:
                return await turn.uow.conversations.get(followup.conversation_id)
        return None

    def _stored(self, inbound: Inbound) -> str:
        if inbound.button_id is not None:
            return f"[pressed {inbound.button_id[:200]}]"
        if inbound.command:
            return f"/{inbound.command} {' '.join(inbound.args)}".strip()
        return redact(inbound.text) if self.services.policy.redact_personal_data else inbound.text

    async def _record(self, turn: Turn) -> None:
        """Stamp the conversation with this turn's time and store the replies in one flush."""
        if turn.forget_customer:
            await turn.uow.privacy.erase(turn.customer)
            return
        # Stamped here, once, rather than at the start: a record changed before the turn's queries would
        # be written twice (once by the query's autoflush, again at the end).
        turn.conversation.last_message_at = turn.now
        # Desk messages (ticket cards, relayed words) are for agents, not part of what the customer was sent.
        # Each reply stays paired with its stored row, whose id the flush below assigns.
        outbound = [(reply, Message(
            conversation_id=turn.conversation.id, direction="out", kind=str(reply.kind), text=reply.text,
            buttons=[{"id": b.id, "label": b.label} for b in reply.buttons] or None, author=None,
            created_at=turn.now,
        )) for reply in turn.replies if reply.to != DESK]
        # One flush writes the turn: the inbound message (staged earlier), these, and the changed records.
        await turn.uow.conversations.add_messages([message for _, message in outbound])
        # Each reply carries its row's id, so the hub marks it sent once delivered (the outbox).
        stamped = {id(reply): replace(reply, message_id=message.id) for reply, message in outbound}
        turn.replies = [stamped.get(id(reply), reply) for reply in turn.replies]


def _unsaved(customer: Customer, now: datetime) -> Conversation:
    return Conversation(
        customer_id=customer.id, state="idle", context={}, failed_attempts=0, frustrated=False,
        opened_at=now, last_message_at=now, closed_at=None,
    )
