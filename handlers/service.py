"""Serving: answer with empathy first, record the need, check it solved the problem, try again or clarify."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import followups, handoff
from handlers.messages import Button, Kind
from handlers.needs import open_need, topic_label
from handlers.notices import stale_button
from handlers.understanding import IntentGuess
from storage.models import ClarifyChoice, Need

if TYPE_CHECKING:
    from handlers.flow import Event
    from handlers.turn import Turn

OUT_OF_SCOPE = "out_of_scope"
# Below this, a second-best intent is a guess, not an answer: ask for more detail instead.
NEXT_BEST_FLOOR = 0.10


async def answer_request(turn: Turn, event: Event) -> None:
    """Understand a request, record it as a need, and answer it, clarify it or admit it is out of scope."""
    understanding = turn.understood()
    previous = await _need_being_retried(turn)
    best = understanding.best
    if understanding.out_of_scope or best is None:
        await _out_of_scope(turn, previous)
        return
    need = previous or await open_need(turn, best.intent)
    if understanding.close_call and len(understanding.ranked) >= 2:
        await _clarify(turn, need, understanding.ranked[:2])
        return
    alternatives = [guess for guess in understanding.ranked[1:3] if guess.confidence >= NEXT_BEST_FLOOR]
    await deliver_answer(turn, need, best.intent, alternatives=[g.intent for g in alternatives])


async def deliver_answer(
    turn: Turn, need: Need, intent_name: str, *, alternatives: list[str], second_try: bool = False
) -> None:
    """Send the opener and the operator's answer, then ask whether it solved the problem."""
    intent = turn.services.knowledge.intent(intent_name)
    assert intent is not None, f"unknown intent {intent_name}"
    need.topic, need.tags = intent.name, list(intent.needs)
    answer = turn.templates.render_operator_text(intent.answer, customer_name=turn.customer.display_name or "")
    topic = topic_label(turn.services.knowledge, intent.name)
    template = "second_attempt" if second_try else "answer"
    turn.say(Kind.ANSWER, turn.render(template, opener=turn.opener(topic), answer=answer, topic=topic))
    conversation_id = turn.conversation.id
    buttons = [
        turn.button("resolved", conversation_id, "yes", turn.templates.label("yes_solved")),
        turn.button("resolved", conversation_id, "no", turn.templates.label("no_not_solved")),
    ]
    if turn.conversation.frustrated:
        buttons.append(turn.button("person", conversation_id, "yes", turn.templates.label("person")))
    turn.say(Kind.RESOLUTION_CHECK, turn.render("resolution_check"), tuple(buttons))
    tried = [*turn.conversation.context.get("tried", []), intent.name] if second_try else [intent.name]
    turn.enter("await_resolution", need_id=need.id, alternatives=alternatives, tried=tried)


async def resolved(turn: Turn, event: Event) -> None:
    """Mark the need resolved, schedule the follow-up, and ask for a one-tap rating."""
    need = await _context_need(turn)
    if need is not None:
        need.status, need.resolved_at = "resolved", turn.now
        await followups.schedule(turn, need)
    conversation_id = turn.conversation.id
    buttons = tuple(
        turn.button("rate", conversation_id, str(score), turn.templates.label("rating", score=score))
        for score in range(1, 6)
    )
    turn.say(Kind.SATISFACTION_CHECK, turn.render("satisfaction_check"), buttons)
    turn.enter("await_rating", need_id=need.id if need else None)


async def not_resolved(turn: Turn, event: Event) -> None:
    """Try the next-best answer or ask for detail; after two failures always offer a person."""
    need = await _context_need(turn)
    turn.conversation.failed_attempts += 1
    if need is None:
        await ask_for_detail(turn, event)
        return
    need.attempts += 1
    if need.attempts >= 2:
        await handoff.offer_person(turn, event)
        return
    tried = set(turn.conversation.context.get("tried", []))
    alternatives = [name for name in turn.conversation.context.get("alternatives", []) if name not in tried]
    if alternatives:
        await deliver_answer(turn, need, alternatives[0], alternatives=alternatives[1:], second_try=True)
        return
    await ask_for_detail(turn, event)


async def ask_for_detail(turn: Turn, event: Event) -> None:
    """Ask the customer to describe the problem in their own words, keeping the same need."""
    need = await _context_need(turn)
    conversation_id = turn.conversation.id
    buttons = (turn.button("person", conversation_id, "yes", turn.templates.label("person")),)
    turn.say(Kind.CLARIFY, turn.render("clarify_more", opener=turn.opener()), buttons)
    tried = turn.conversation.context.get("tried", [])
    turn.enter("await_detail", need_id=need.id if need else None, tried=tried)


async def clarified(turn: Turn, event: Event) -> None:
    """Answer the intent the customer picked, and keep their choice as a labelled example."""
    need = await _context_need(turn)
    intent = turn.services.knowledge.intent(event.arg)
    if need is None or intent is None:
        await stale_button(turn, event)
        return
    await turn.uow.feedback.add_choice(ClarifyChoice(
        customer_id=turn.customer.id, text=turn.conversation.context.get("text", need.words),
        intent=intent.name, created_at=turn.now,
    ))
    await deliver_answer(turn, need, intent.name, alternatives=[])


async def greet(turn: Turn, event: Event) -> None:
    """Greet the customer; a returning one by name, with the needs still open on their record."""
    open_needs = await turn.uow.needs.open_for(turn.customer.id)
    earlier = await turn.uow.conversations.latest_for(turn.customer.id)
    returning = earlier is not None and earlier.id != turn.conversation.id
    if returning or open_needs:
        labels = [topic_label(turn.services.knowledge, need.topic) for need in open_needs]
        turn.say(Kind.GREETING, turn.render("greeting_returning", open_needs=labels))
    else:
        turn.say(Kind.GREETING, turn.render("greeting_new"))


async def welcome_thanks(turn: Turn, event: Event) -> None:
    """Answer thanks politely."""
    turn.say(Kind.NOTICE, turn.render("thanks_reply"))


async def _out_of_scope(turn: Turn, previous: Need | None) -> None:
    if previous is not None:
        previous.status = "unmet"
    else:
        need = await open_need(turn, OUT_OF_SCOPE)
        need.status = "unmet"
    conversation_id = turn.conversation.id
    buttons = (turn.button("person", conversation_id, "yes", turn.templates.label("person")),)
    turn.say(Kind.FALLBACK, turn.render("fallback", opener=turn.opener()), buttons)
    turn.enter("idle")


async def _clarify(turn: Turn, need: Need, guesses: tuple[IntentGuess, ...]) -> None:
    knowledge, conversation_id = turn.services.knowledge, turn.conversation.id
    buttons: list[Button] = [
        turn.button("clarify", conversation_id, guess.intent, topic_label(knowledge, guess.intent))
        for guess in guesses
    ]
    buttons.append(turn.button("clarify", conversation_id, "none", turn.templates.label("neither")))
    turn.say(Kind.CLARIFY, turn.render("clarify", opener=turn.opener()), tuple(buttons))
    turn.enter("await_clarify", need_id=need.id, text=need.words, choices=[g.intent for g in guesses])


async def _context_need(turn: Turn) -> Need | None:
    need_id = turn.conversation.context.get("need_id")
    return await turn.uow.needs.get(need_id) if need_id else None


async def _need_being_retried(turn: Turn) -> Need | None:
    """Return the need the customer is describing again after we asked for more detail."""
    if turn.conversation.state != "await_detail":
        return None
    need = await _context_need(turn)
    if need is not None:
        need.attempts += 1
    return need
