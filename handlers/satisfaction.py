"""Satisfaction: a one-tap rating; a high one may lead to an offer, a low one starts recovery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import selling
from handlers.messages import Kind
from handlers.redaction import redact
from storage.models import Feedback, Rating

if TYPE_CHECKING:
    from handlers.flow import Event
    from handlers.turn import Turn

LOW_SCORE = 2


async def rated(turn: Turn, event: Event) -> None:
    """Store the rating; recover after a low one, thank and maybe offer after a high one."""
    score = int(event.arg)
    turn.uow.feedback.stage(Rating(
        conversation_id=turn.conversation.id, customer_id=turn.customer.id, score=score, created_at=turn.now
    ))
    if score <= LOW_SCORE:
        buttons = (turn.button("person", turn.conversation.id, "yes", turn.templates.label("person")),)
        turn.say(Kind.RECOVERY, turn.render("recovery"), buttons)
        turn.enter("await_feedback", handoff_reason="low_rating")
        return
    turn.say(Kind.NOTICE, turn.render("rating_thanks", score=score))
    turn.enter("idle")
    turn.close("rated")
    await selling.maybe_offer(turn, score=score)


async def feedback_given(turn: Turn, event: Event) -> None:
    """Store what went wrong, thank the customer, and keep a person on offer."""
    text = turn.text[: turn.services.policy.max_stored_chars]
    if turn.services.policy.redact_personal_data:
        text = redact(text)
    await turn.uow.feedback.add_feedback(Feedback(
        conversation_id=turn.conversation.id, customer_id=turn.customer.id, text=text, created_at=turn.now
    ))
    buttons = (turn.button("person", turn.conversation.id, "yes", turn.templates.label("person")),)
    turn.say(Kind.RECOVERY, turn.render("recovery_thanks"), buttons)
    turn.enter("idle", handoff_reason="low_rating")
    turn.close("rated")
