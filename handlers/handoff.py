"""Handing a conversation to a person: on request at once; offered after frustration or failures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.desk import post_card
from handlers.messages import Kind
from storage.models import Handoff

if TYPE_CHECKING:
    from handlers.flow import Event
    from handlers.turn import Turn

# Higher goes first in the agents' queue.
PRIORITY_FRUSTRATED = 2
PRIORITY_LOW_RATING = 2
PRIORITY_VIP = 3


async def hand_over(turn: Turn, event: Event) -> None:
    """Queue the conversation for a person, tell the customer, and keep the bot quiet from now on."""
    existing = await turn.uow.handoffs.active_for(turn.conversation.id)
    reason = turn.conversation.context.get("handoff_reason", "asked")
    if existing is None:
        ticket = await turn.uow.handoffs.add(Handoff(
            conversation_id=turn.conversation.id, customer_id=turn.customer.id, reason=reason,
            priority=await priority_for(turn), status="queued", agent_key=None, created_at=turn.now,
            claimed_at=None, first_reply_at=None, ended_at=None,
        ))
    for need in await turn.uow.needs.open_for(turn.customer.id):
        if need.conversation_id == turn.conversation.id:
            need.status = "handed_off"
    opener = turn.opener() if turn.conversation.frustrated else ""
    turn.say(Kind.HANDOFF, turn.render("handoff", opener=opener))
    turn.enter("with_person")
    if existing is None:
        # After the handoff is recorded, so the card shows the needs as handed to a person.
        await post_card(turn, ticket)


async def offer_person(turn: Turn, event: Event) -> None:
    """Offer a person with a button, after two failed attempts or when asked for details again."""
    buttons = (turn.button("person", turn.conversation.id, "yes", turn.templates.label("person")),)
    turn.say(Kind.FALLBACK, turn.render("handoff_offer", opener=turn.opener(mood="frustrated")), buttons)
    context = dict(turn.conversation.context)
    turn.enter("idle", **{**context, "handoff_reason": "failed_attempts"})


async def priority_for(turn: Turn) -> int:
    """Rank a ticket: frustrated customers, low ratings and VIPs first."""
    priority = 0
    if turn.conversation.frustrated:
        priority += PRIORITY_FRUSTRATED
    rating = await turn.uow.feedback.rating_for(turn.conversation.id)
    if rating is not None and rating.score <= 2:
        priority += PRIORITY_LOW_RATING
    if turn.customer.vip:
        priority += PRIORITY_VIP
    return priority
