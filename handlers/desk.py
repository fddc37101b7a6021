"""The agent desk: tickets queued for people, claimed by one agent, relayed both ways, handed back.

Agents act through commands (`queue`, `claim`, `note`, `transfer`, `release`, `close`, `reply`) and the
card's claim button; once claimed from the card, the ticket lives in the card's thread, where the
holder's plain messages are relayed too. Every message that reaches a customer from the desk is
confirmed in the desk, and notes are stored on the ticket only, so nothing leaves by accident.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from handlers import audit, desk_thread
from handlers.desk_card import card_text, customer_name
from handlers.messages import DESK, Button, Inbound, Kind, Reply
from handlers.turn import Services, Turn
from storage.models import DeskNote, Handoff, Message
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    from handlers.flow import Event

CLAIM_ACTION = "claim"
# What an adapter names an agent's plain message in a desk thread; relayed when the thread is a held ticket's.
THREAD_COMMAND = "thread"
_USAGE = {
    "queue": "queue",
    "claim": "claim [TICKET]",
    "note": "note TICKET TEXT",
    "reply": "reply TICKET TEXT",
    "transfer": "transfer TICKET AGENT",
    "release": "release TICKET",
    "close": "close TICKET",
}
DESK_COMMANDS = frozenset(_USAGE)


def is_desk_command(command: str) -> bool:
    """Tell whether a command belongs to the agent desk."""
    return command in DESK_COMMANDS or command == THREAD_COMMAND


def is_desk_button(button_id: str) -> bool:
    """Tell whether a pressed button is the desk's (a ticket card's claim button)."""
    return button_id.startswith(f"{CLAIM_ACTION}:")


def desk_for(services: Services, platform: str) -> str:
    """Pick the desk for a platform: its own when configured, else the first configured one."""
    desks = services.policy.desk_platforms or ("console",)
    return platform if platform in desks else desks[0]


def desk_reply(platform: str, text: str, *, buttons: tuple[Button, ...] = (), conversation_id: int | None = None,
               where: tuple[str | None, str | None] = (None, None)) -> Reply:
    """Address a message to the desk of a platform: its channel, or (channel, thread) when given."""
    channel_id, thread_id = where
    return Reply(platform, DESK, Kind.NOTICE, text, buttons, channel_id=channel_id, thread_id=thread_id,
                 conversation_id=conversation_id)


async def post_card(turn: Turn, ticket: Handoff) -> None:
    """Post a new ticket's card to the desk of the customer's platform, with a claim button."""
    button = Button(f"{CLAIM_ACTION}:{ticket.id}:go", turn.templates.label("claim"))
    desk = desk_for(turn.services, _platform(turn.customer.key))
    turn.replies.append(desk_reply(desk, await card_text(turn, ticket), buttons=(button,),
                                   conversation_id=turn.conversation.id))


async def relay_to_desk(turn: Turn, event: Event) -> None:
    """Pass what a customer writes while a person has them to the desk; the bot itself stays quiet."""
    ticket = await turn.uow.handoffs.active_for(turn.conversation.id)
    if ticket is None or not turn.text:
        return
    holder = ticket.agent_key if ticket.status == "claimed" else None
    desk = desk_for(turn.services, _platform(holder or turn.customer.key))
    text = turn.templates.render("desk_from_customer", ticket=ticket.id, text=turn.text,
                                 customer=customer_name(turn.customer.display_name, turn.customer.key))
    turn.replies.append(desk_reply(desk, text, conversation_id=turn.conversation.id,
                                   where=desk_thread.address(turn.conversation, desk)))


@dataclass
class DeskAction:
    """One agent's command against the desk, inside one unit of work."""

    uow: UnitOfWork
    services: Services
    now: datetime
    inbound: Inbound
    args: tuple[str, ...]

    @property
    def agent(self) -> str:
        return self.inbound.user_key

    @property
    def desk(self) -> str:
        return desk_for(self.services, self.inbound.platform)

    def render(self, template: str, **variables: object) -> str:
        return self.services.templates.render(template, agent=self.agent, **variables)

    def to_agent(self, text: str) -> list[Reply]:
        """Answer only the agent who asked (usage, refusals, the queue)."""
        inbound = self.inbound
        return [Reply(inbound.platform, inbound.user_id, Kind.NOTICE, text, channel_id=inbound.channel_id,
                      thread_id=inbound.thread_id, ephemeral=True)]

    def to_desk(self, turn: Turn, text: str) -> Reply:
        """Say something in the desk about the ticket of `turn`, in its thread when it has one."""
        return desk_reply(self.desk, text, conversation_id=turn.conversation.id,
                          where=desk_thread.address(turn.conversation, self.desk))

    def usage(self, command: str) -> list[Reply]:
        return self.to_agent(self.render("desk_usage", usage=_USAGE[command]))

    async def ticket(self, *, holder_only: bool) -> tuple[Handoff, Turn] | list[Reply]:
        """Find the ticket named by the first argument, and the customer's side of it; or say why not."""
        number = self.args[0] if self.args else ""
        ticket = await self.uow.handoffs.fresh(int(number)) if number.isdigit() else None
        if ticket is None or ticket.status not in ("queued", "claimed"):
            return self.to_agent(self.render("desk_no_ticket", ticket=number[:20],
                                             status=ticket.status if ticket else None))
        if holder_only and ticket.agent_key != self.agent and not self.services.policy.roles.is_manager(self.agent):
            return self.to_agent(self.render("desk_not_holder", ticket=ticket.id, holder=ticket.agent_key))
        customer = await self.uow.customers.get(ticket.customer_id)
        conversation = await self.uow.conversations.get(ticket.conversation_id)
        assert customer is not None and conversation is not None  # foreign keys guarantee both
        # The customer's row lock orders this with their own turns, as every turn takes it first.
        await self.uow.customers.by_key(customer.key, lock=True)
        return ticket, Turn(self.uow, self.services, customer, conversation, self.now)

    async def send(self, turn: Turn, author: str | None) -> None:
        """Record the customer's new messages in their conversation, as the core does for its own."""
        turn.conversation.last_message_at = self.now
        stored = await self.uow.outbox.store([Message(
            conversation_id=turn.conversation.id, direction="out", kind=str(reply.kind), text=reply.text,
            buttons=[{"id": b.id, "label": b.label} for b in reply.buttons] or None, author=author,
            created_at=self.now,
        ) for reply in turn.replies])
        # Each reply carries its row's id, so the hub marks it sent once delivered (the outbox).
        turn.replies = [replace(reply, message_id=message.id) for reply, message in zip(turn.replies, stored,
                                                                                       strict=True)]


Command = Callable[[DeskAction], Awaitable[list[Reply]]]


async def show_queue(action: DeskAction) -> list[Reply]:
    """List the waiting tickets, most urgent first, and the ones this agent holds."""
    async def row(ticket: Handoff) -> dict[str, object]:
        customer = await action.uow.customers.get(ticket.customer_id)
        name = customer_name(customer.display_name, customer.key) if customer else "?"
        return {"id": ticket.id, "customer": name, "priority": ticket.priority, "reason": ticket.reason,
                "waiting": _duration(action.now - ticket.created_at)}

    tickets = [await row(t) for t in await action.uow.handoffs.queue()]
    held = [await row(t) for t in await action.uow.handoffs.held_by(action.agent)]
    return action.to_agent(action.render("desk_queue", tickets=tickets, held=held))


async def claim(action: DeskAction) -> list[Reply]:
    """Take a ticket (the most urgent one when none is named); only one agent ever gets it."""
    if not action.args:
        queue = await action.uow.handoffs.queue()
        if not queue:
            return action.to_agent(action.render("desk_queue", tickets=[], held=[]))
        action.args = (str(queue[0].id),)
    number = action.args[0]
    if not number.isdigit():
        return action.usage("claim")
    if not await action.uow.handoffs.claim(int(number), action.agent, action.now):
        ticket = await action.uow.handoffs.fresh(int(number))
        if ticket is None:
            return action.to_agent(action.render("desk_no_ticket", ticket=number[:20], status=None))
        return action.to_agent(action.render("desk_claim_taken", ticket=ticket.id, holder=ticket.agent_key,
                                             status=ticket.status))
    found = await action.ticket(holder_only=True)
    if isinstance(found, list):
        return found
    ticket, turn = found
    if action.inbound.platform == action.desk:
        # Claimed from the card (or a thread): the ticket's desk messages go to that thread from now on.
        desk_thread.remember(turn.conversation, action.inbound)
    name = customer_name(turn.customer.display_name, turn.customer.key)
    return [action.to_desk(turn, action.render("desk_claimed", ticket=ticket.id, customer=name))]


async def reply(action: DeskAction) -> list[Reply]:
    """Send the holder's words to the customer, marked as a person's, and confirm them in the desk."""
    if len(action.args) < 2:
        return action.usage("reply")
    found = await action.ticket(holder_only=True)
    if isinstance(found, list):
        return found
    ticket, turn = found
    if ticket.status != "claimed":
        return action.to_agent(action.render("desk_not_holder", ticket=ticket.id, holder=None))
    return await _send_words(action, ticket, turn, " ".join(action.args[1:]))


async def from_thread(action: DeskAction) -> list[Reply]:
    """Relay the holder's plain message in a ticket's desk thread; any other thread talk stays in the desk."""
    inbound = action.inbound
    if not inbound.text or inbound.thread_id is None:
        return []
    # Commands are not deduplicated by the core; a platform's retry of this message must not send it twice.
    if inbound.event_id and not await action.uow.events.claim(f"{inbound.platform}:{inbound.event_id}", action.now):
        return []
    for held in await action.uow.handoffs.held_by(action.agent):
        conversation = await action.uow.conversations.get(held.conversation_id)
        if conversation is not None and desk_thread.is_thread_of(conversation, inbound):
            action.args = (str(held.id),)
            found = await action.ticket(holder_only=True)
            if isinstance(found, list):
                return found
            return await _send_words(action, *found, inbound.text)
    return []


async def _send_words(action: DeskAction, ticket: Handoff, turn: Turn, words: str) -> list[Reply]:
    """Send the holder's words to the customer, marked as a person's, and confirm them in the desk."""
    text = words[: action.services.policy.max_stored_chars]
    turn.say(Kind.AGENT, text)
    await action.send(turn, author=action.agent)
    ticket.first_reply_at = ticket.first_reply_at or action.now
    name = customer_name(turn.customer.display_name, turn.customer.key)
    confirmation = action.render("desk_sent", ticket=ticket.id, customer=name, text=text)
    return [*turn.replies, action.to_desk(turn, confirmation)]


async def note(action: DeskAction) -> list[Reply]:
    """Keep an internal note on the ticket; it is shown in the desk and never sent to the customer."""
    if len(action.args) < 2:
        return action.usage("note")
    found = await action.ticket(holder_only=False)
    if isinstance(found, list):
        return found
    ticket, turn = found
    text = " ".join(action.args[1:])[: action.services.policy.max_stored_chars]
    await action.uow.handoffs.add_note(DeskNote(handoff_id=ticket.id, agent_key=action.agent, text=text,
                                                created_at=action.now))
    return [action.to_desk(turn, action.render("desk_note_saved", ticket=ticket.id, text=text))]


async def transfer(action: DeskAction) -> list[Reply]:
    """Hand a held ticket to another agent (named by key, or by id on the agent's own platform)."""
    if len(action.args) != 2:
        return action.usage("transfer")
    found = await action.ticket(holder_only=True)
    if isinstance(found, list):
        return found
    ticket, turn = found
    target = action.args[1] if ":" in action.args[1] else f"{action.inbound.platform}:{action.args[1]}"
    if not action.services.policy.roles.is_agent(target):
        return action.to_agent(action.render("desk_not_agent", target=target[:200]))
    holder = ticket.agent_key
    if ticket.status != "claimed" or holder is None or not await action.uow.handoffs.transfer(
            ticket.id, holder, target):
        return action.to_agent(action.render("desk_not_holder", ticket=ticket.id, holder=holder))
    name = customer_name(turn.customer.display_name, turn.customer.key)
    text = action.render("desk_transferred", ticket=ticket.id, customer=name, to_agent=target)
    return [action.to_desk(turn, text)]


async def release(action: DeskAction) -> list[Reply]:
    """Hand the customer back to the bot, tell them, and ask how the person's help was."""
    found = await action.ticket(holder_only=True)
    if isinstance(found, list):
        return found
    ticket, turn = found
    name = customer_name(turn.customer.display_name, turn.customer.key)
    # Addressed now: handing the conversation back resets its context, the thread with it.
    confirmation = action.to_desk(turn, action.render("desk_released", ticket=ticket.id, customer=name))
    ticket.status, ticket.ended_at = "released", action.now
    conversation_id = turn.conversation.id
    buttons = tuple(turn.button("rate", conversation_id, str(score), turn.templates.label("rating", score=score))
                    for score in range(1, 6))
    turn.say(Kind.SATISFACTION_CHECK, turn.render("back_with_bot"), buttons)
    turn.enter("await_rating")
    turn.conversation.closed_at, turn.conversation.close_reason = None, None
    await action.send(turn, author=None)
    return [*turn.replies, confirmation]


async def close(action: DeskAction) -> list[Reply]:
    """End a ticket for good: the conversation closes and the customer is told they can write again."""
    found = await action.ticket(holder_only=True)
    if isinstance(found, list):
        return found
    ticket, turn = found
    name = customer_name(turn.customer.display_name, turn.customer.key)
    confirmation = action.to_desk(turn, action.render("desk_closed", ticket=ticket.id, customer=name))
    ticket.status, ticket.ended_at = "closed", action.now
    turn.say(Kind.NOTICE, turn.render("desk_closed_customer"))
    turn.enter("idle")
    turn.close("ticket_closed")
    await action.send(turn, author=None)
    return [*turn.replies, confirmation]


COMMANDS: dict[str, Command] = {
    "queue": show_queue, "claim": claim, "note": note, "reply": reply, "transfer": transfer,
    "release": release, "close": close, THREAD_COMMAND: from_thread,
}


async def run(inbound: Inbound, unit_of_work: UnitOfWorkFactory, services: Services, now: datetime) -> list[Reply]:
    """Run a desk command or a card's button for an agent; everyone else is refused, privately."""
    command, args = (inbound.command or "").lower(), inbound.args
    if inbound.button_id is not None:
        _, _, rest = inbound.button_id.partition(":")
        command, args = CLAIM_ACTION, (rest.partition(":")[0],)
    # Only the ticket number goes to the audit log: an agent's words are the customer's business.
    detail = {"ticket": args[0][:20] if args else None}
    if command == THREAD_COMMAND and not services.policy.roles.is_agent(inbound.user_key):
        return []  # someone else talking in a desk thread: nothing to refuse, nothing to relay
    if not services.policy.roles.is_agent(inbound.user_key):
        await audit.record_alone(unit_of_work, inbound.user_key, f"desk_{command}_refused", detail, now=now)
        refusal = services.templates.render("not_allowed", command=command, role="agents")
        return [Reply(inbound.platform, inbound.user_id, Kind.NOTICE, refusal, channel_id=inbound.channel_id,
                      thread_id=inbound.thread_id, ephemeral=True)]
    async with unit_of_work() as uow:
        action = DeskAction(uow, services, now, inbound, args)
        replies = await COMMANDS[command](action)
        if command != THREAD_COMMAND or action.args:
            # Thread talk is audited only when it was relayed, under the ticket it went to.
            await audit.record(uow, inbound.user_key, f"desk_{command}",
                               {"ticket": action.args[0][:20] if action.args else None}, now=now)
        await uow.commit()
    return replies


def _platform(key: str) -> str:
    return key.partition(":")[0]


def _duration(elapsed: timedelta) -> str:
    minutes = max(int(elapsed.total_seconds() // 60), 0)
    return f"{minutes // 60}h {minutes % 60}m" if minutes >= 60 else f"{minutes}m"
