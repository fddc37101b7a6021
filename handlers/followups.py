"""Follow-ups: some days after a resolution, ask whether everything went as promised."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from handlers import selling
from handlers.messages import Button, Kind, Reply
from handlers.needs import topic_label
from handlers.notices import stale_button
from storage.models import FollowUp, Message, Need
from storage.unit_of_work import UnitOfWork

HANDOFF_POSTPONE = timedelta(hours=6)

if TYPE_CHECKING:
    from handlers.flow import Event
    from handlers.turn import Services, Turn


async def schedule(turn: Turn, need: Need) -> None:
    """Schedule a check-in about a resolved need, `followup_after` from now."""
    turn.uow.followups.stage(FollowUp(
        customer_id=turn.customer.id, conversation_id=turn.conversation.id, need_id=need.id,
        due_at=turn.now + turn.services.policy.followup_after, status="scheduled",
        sent_at=None, answered_at=None,
    ))


async def fire_due(uow: UnitOfWork, services: Services, now: datetime, limit: int = 100) -> list[Reply]:
    """Claim due follow-ups (each by one process only), mark them sent and return the check-in messages."""
    replies: list[Reply] = []
    for followup in await uow.followups.claim_due(now, limit):
        customer = await uow.customers.get(followup.customer_id)
        conversation = await uow.conversations.get(followup.conversation_id)
        need = await uow.needs.get(followup.need_id) if followup.need_id else None
        if customer is None or conversation is None:
            followup.status = "cancelled"
            continue
        current = await uow.conversations.open_for(customer.id)
        if current is not None and current.state == "with_person":
            # A person has the floor (rule 9): ask again once the handoff is over.
            followup.due_at = now + HANDOFF_POSTPONE
            continue
        followup.status, followup.sent_at = "sent", now
        topic = topic_label(services.knowledge, need.topic) if need else "your request"
        text = services.templates.render(
            "followup", name=customer.display_name, business=services.knowledge.business_name, topic=topic
        )
        buttons = (
            Button(f"followup:{followup.id}:yes", services.templates.label("followup_yes")),
            Button(f"followup:{followup.id}:no", services.templates.label("followup_no")),
        )
        platform, _, user_id = customer.key.partition(":")
        # Stored first: the reply carries its row's id, which the hub marks sent (the outbox).
        [message] = await uow.outbox.store([Message(
            conversation_id=conversation.id, direction="out", kind=Kind.FOLLOWUP, text=text,
            buttons=[{"id": b.id, "label": b.label} for b in buttons], author=None, created_at=now,
        )])
        replies.append(Reply(platform, user_id, Kind.FOLLOWUP, text, buttons, conversation.channel_id,
                             conversation.thread_id, conversation.id, message_id=message.id))
    return replies


async def answered(turn: Turn, event: Event) -> None:
    """Take the answer to a check-in: yes may lead to an offer (rule 4); no reopens the need."""
    followup = await turn.uow.followups.get(event.record_id)
    if followup is None or followup.customer_id != turn.customer.id or followup.status != "sent":
        await stale_button(turn, event)
        return
    followup.answered_at = turn.now
    if event.arg == "yes":
        followup.status = "yes"
        turn.say(Kind.NOTICE, turn.render("followup_yes"))
        await selling.maybe_offer(turn, satisfied_by_followup=True)
        return
    followup.status = "no"
    need = await turn.uow.needs.get(followup.need_id) if followup.need_id else None
    if need is not None:
        need.status, need.resolved_at = "open", None
    turn.conversation.closed_at, turn.conversation.close_reason = None, None
    buttons = (turn.button("person", turn.conversation.id, "yes", turn.templates.label("person")),)
    turn.say(Kind.RECOVERY, turn.render("followup_no"), buttons)
    turn.enter("await_detail", need_id=need.id if need else None, tried=[need.topic] if need else [])
