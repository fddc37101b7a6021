"""Needs: what each customer asked for, in their own (redacted) words, and how it ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.knowledge import KnowledgeBase
from handlers.redaction import redact
from storage.models import Need

if TYPE_CHECKING:
    from handlers.turn import Turn

UNMET_LABEL = "something we don't cover yet"


async def open_need(turn: Turn, topic: str) -> Need:
    """Record a new open need for this request, with the customer's words redacted."""
    intent = turn.services.knowledge.intent(topic)
    words = turn.text[: turn.services.policy.max_stored_chars]
    if turn.services.policy.redact_personal_data:
        words = redact(words)
    return await turn.uow.needs.add(Need(
        customer_id=turn.customer.id, conversation_id=turn.conversation.id, topic=topic,
        tags=list(intent.needs) if intent else [], words=words, status="open", attempts=0,
        created_at=turn.now, resolved_at=None,
    ))


def topic_label(knowledge: KnowledgeBase, topic: str) -> str:
    """Return the human name of a need's topic."""
    intent = knowledge.intent(topic)
    if intent is None:
        return UNMET_LABEL if topic == "out_of_scope" else topic.replace("_", " ")
    return intent.label or intent.name.replace("_", " ").capitalize()
