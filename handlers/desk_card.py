"""The ticket card an agent sees in the desk: who, what they need, how they feel, and what may be sold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.needs import topic_label
from handlers.selling import selling_verdict
from storage.models import Handoff, Message

if TYPE_CHECKING:
    from handlers.turn import Turn

LAST_MESSAGES = 6
# Long messages are cut so the card stays readable; the whole text is in the customer's record.
MESSAGE_PREVIEW = 300


async def card_text(turn: Turn, ticket: Handoff) -> str:
    """Render the card for a ticket, from the customer's turn that opened it."""
    knowledge = turn.services.knowledge
    needs = list(await turn.uow.needs.for_customer(turn.customer.id))
    tags = {tag for need in needs for tag in need.tags}
    verdict = await selling_verdict(turn)
    messages = await turn.uow.conversations.recent_messages(turn.conversation.id, LAST_MESSAGES)
    rating = await turn.uow.feedback.rating_for(turn.conversation.id)
    platform = turn.customer.key.partition(":")[0]
    customer = customer_name(turn.customer.display_name, turn.customer.key)
    sentiment = "frustrated" if turn.conversation.frustrated else str(turn.mood)
    open_topics = [topic_label(knowledge, n.topic) for n in needs
                   if n.conversation_id == turn.conversation.id and n.status in ("open", "handed_off", "unmet")]
    summary = turn.templates.render(
        "desk_summary", customer=customer, reason=ticket.reason, rating=rating.score if rating else None,
        message_count=sum(1 for m in messages if m.direction == "in"), open_topics=open_topics,
        frustrated=turn.conversation.frustrated, sentiment=sentiment,
    )
    return turn.templates.render(
        "desk_card", ticket=ticket.id, priority=ticket.priority, customer=customer, platform=platform,
        vip=turn.customer.vip, sentiment=sentiment, summary=summary,
        needs=[{"label": topic_label(knowledge, n.topic), "status": n.status} for n in needs],
        last_messages=[_line(m) for m in messages],
        products=knowledge.products_serving(tags), selling_allowed=verdict.allowed,
        selling_reasons=verdict.reasons,
    )


def customer_name(display_name: str | None, key: str) -> str:
    """Name a customer for agents: their display name with their key, or the key alone."""
    return f"{display_name} ({key})" if display_name else key


def _line(message: Message) -> dict[str, Any]:
    who = "customer" if message.direction == "in" else (message.author or "bot")
    text = message.text if len(message.text) <= MESSAGE_PREVIEW else message.text[:MESSAGE_PREVIEW] + "…"
    return {"who": who, "text": text}
