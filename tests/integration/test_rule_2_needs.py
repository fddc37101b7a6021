"""Rule 2: every request becomes a need with topic, redacted words and status; unanswerable ones are unmet."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from handlers.messages import Kind
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver


async def needs_of(unit_of_work: UnitOfWorkFactory, user: str) -> list[SimpleNamespace]:
    """The customer's needs, copied out of the session."""
    async with unit_of_work() as uow:
        customer = await uow.customers.by_key(f"console:{user}")
        assert customer is not None
        return [
            SimpleNamespace(**{c.key: getattr(n, c.key) for c in n.__table__.columns})
            for n in await uow.needs.for_customer(customer.id)
        ]


async def _request_is_recorded_with_topic_redacted_words_and_status(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.say("ana", "I want to return my helmet, my email is ana.smith@example.com")
    [need] = await needs_of(unit_of_work, "ana")
    assert need.topic == "return_item"
    assert "[email]" in need.words
    assert "ana.smith@example.com" not in need.words
    assert "return my helmet" in need.words
    assert need.status == "open"
    assert need.created_at is not None and need.resolved_at is None

    await chat.press_label("ana", 1)  # yes, solved
    [need] = await needs_of(unit_of_work, "ana")
    assert need.status == "resolved"
    assert need.resolved_at is not None


async def _each_request_is_its_own_need(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    await chat.say("ben", "my card was declined")
    await chat.say("ben", "how much is shipping")
    needs = await needs_of(unit_of_work, "ben")
    assert [n.topic for n in needs] == ["payment_failed", "delivery_options"]
    assert [n.words for n in needs] == ["my card was declined", "how much is shipping"]


async def _out_of_scope_question_is_an_unmet_need_with_a_person_offered(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    replies = await chat.say("cai", "what's the weather on mars")
    assert [r.kind for r in replies] == [Kind.FALLBACK]
    assert chat.button(replies, "person:")
    [need] = await needs_of(unit_of_work, "cai")
    assert need.status == "unmet"
    assert "weather on mars" in need.words


async def _the_person_button_of_a_fallback_hands_over(chat: ChatDriver) -> None:
    replies = await chat.say("dee", "what's the weather on mars")
    handed = await chat.press("dee", chat.button(replies, "person:"))
    assert [r.kind for r in handed if r.to == "dee"] == [Kind.HANDOFF]


async def test_requests_become_needs_on_record(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Each request is a need with its topic, redacted words and status."""
    await _request_is_recorded_with_topic_redacted_words_and_status(chat, unit_of_work)
    await _each_request_is_its_own_need(chat, unit_of_work)


async def test_unanswerable_requests_are_unmet_needs(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Out-of-scope questions are recorded as unmet, with a person offered."""
    await _out_of_scope_question_is_an_unmet_need_with_a_person_offered(chat, unit_of_work)
    await _the_person_button_of_a_fallback_hands_over(chat)


async def test_a_late_yes_or_rating_is_not_an_unmet_need(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    await chat.say("eve", "where is my order")
    await chat.advance(timedelta(days=2))  # the conversation idles out
    await chat.say("eve", "yes")
    await chat.say("fin", "where is my order")
    await chat.say("fin", "yes")
    await chat.advance(timedelta(days=2))
    await chat.say("fin", "5")
    for user in ("eve", "fin"):
        unmet = [n.words for n in await needs_of(unit_of_work, user) if n.status == "unmet"]
        assert unmet == [], (user, unmet)
