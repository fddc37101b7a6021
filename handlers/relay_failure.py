"""When a person's words could not reach a customer: the desk is told, where the agent works the ticket.

The hub retries a relayed message a few times at once; if the platform still refuses it, the core
builds a notice for the desk (the ticket's thread when it has one, else the desk channel) saying the
words have not reached the customer yet. The stored message stays unsent, so the outbox sweep keeps trying.
"""

from __future__ import annotations

from typing import Protocol

from handlers import desk_thread
from handlers.desk import desk_for, desk_reply
from handlers.desk_card import customer_name
from handlers.messages import Kind, Reply
from handlers.turn import Services
from storage.unit_of_work import UnitOfWorkFactory

# Enough of the words for the agent to recognise which message it was, without pasting an essay back.
PREVIEW_CHARS = 200


class CoreParts(Protocol):
    """What building the notice needs of the core."""

    unit_of_work: UnitOfWorkFactory
    services: Services


def is_relayed(reply: Reply) -> bool:
    """Tell whether a reply carries a person's words to a customer (the only kind the desk must hear about)."""
    return reply.kind is Kind.AGENT and reply.conversation_id is not None


async def relay_failed(core: CoreParts, reply: Reply) -> list[Reply]:
    """Build the desk notice for a person's words that did not reach the customer; none for other replies."""
    if not is_relayed(reply) or reply.conversation_id is None:
        return []
    async with core.unit_of_work() as uow:
        conversation = await uow.conversations.get(reply.conversation_id)
        if conversation is None:
            return []
        ticket = await uow.handoffs.active_for(conversation.id)
        customer = await uow.customers.get(conversation.customer_id)
        # Read inside the unit of work: its rows are expired once it ends.
        customer_key = customer.key if customer is not None else reply.to_key
        name = customer_name(customer.display_name if customer is not None else None, customer_key)
        number, holder = (ticket.id, ticket.agent_key) if ticket is not None else (None, None)
        desk = desk_for(core.services, (holder or customer_key).partition(":")[0])
        where = desk_thread.address(conversation, desk)
    words = reply.text if len(reply.text) <= PREVIEW_CHARS else reply.text[: PREVIEW_CHARS - 1] + "…"
    text = core.services.templates.render("desk_relay_failed", ticket=number, agent=holder, customer=name,
                                          text=words, platform=reply.platform.capitalize())
    return [desk_reply(desk, text, conversation_id=reply.conversation_id, where=where)]
