"""Hostile or broken input: empty lines, huge messages, control characters, template syntax, garbage buttons."""

from __future__ import annotations

from sqlalchemy import select

from handlers.messages import Kind
from storage.models import Message, Need
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver


async def inbound_texts(unit_of_work: UnitOfWorkFactory) -> list[str]:
    async with unit_of_work() as uow:
        query = select(Message.text).where(Message.direction == "in").order_by(Message.id)
        return list((await uow.session.scalars(query)).all())  # type: ignore[attr-defined]


async def _empty_lines_are_ignored(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    for text in ("", "   ", "\t\n", "\x00\x07"):
        assert await chat.say("ana", text) == [], repr(text)
    async with unit_of_work() as uow:
        assert await uow.customers.by_key("console:ana") is None
    assert await inbound_texts(unit_of_work) == []


async def _huge_message_is_answered_and_stored_truncated(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    text = ("where is my order " * 3000)[:50_000]
    assert len(text) == 50_000
    replies = await chat.say("ana", text)
    assert replies and replies[0].kind == Kind.ANSWER
    [stored] = await inbound_texts(unit_of_work)
    assert 0 < len(stored) <= 20_000
    async with unit_of_work() as uow:
        words = (await uow.session.scalars(select(Need.words))).all()  # type: ignore[attr-defined]
    assert words and all(len(w) <= 20_000 for w in words)


async def _control_characters_are_stripped(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    replies = await chat.say("ana", "where is\x00 my\x1b order\x07\u200b?")
    assert replies and replies[0].kind == Kind.ANSWER
    [stored] = await inbound_texts(unit_of_work)
    assert stored == "where is my order?"


async def _template_syntax_from_a_customer_is_never_executed(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    typed = ["{{ 7*7 }}", "{% for x in range(3) %}x{% endfor %} where is my order", "{% for %}",
             "{{ ''.__class__.__mro__ }}"]
    for text in typed:
        replies = await chat.say("ana", text)
        assert replies, text
        assert all("49" not in r.text and "xxx" not in r.text and "<class" not in r.text for r in replies), text
    assert await inbound_texts(unit_of_work) == typed
    # A display name is the customer's text too, and answers may include it.
    named = await chat.say("ben", "my helmet arrived cracked", display_name="{{ 7*7 }}")
    assert named and all("49" not in r.text for r in named)
    assert "{{ 7*7 }}" in named[0].text


async def _unknown_and_garbage_buttons_get_a_notice(chat: ChatDriver) -> None:
    await chat.say("ana", "where is my order")
    for button in ("garbage", "", ":::", "resolved:abc:yes", "resolved:999999:yes", "rate:1:9", "x" * 5000,
                   "offer:999999:accept", "followup:999999:yes", "forget:999999:confirm", "person:-1:yes",
                   "clarify:1:order_status"):
        replies = await chat.press("ana", button)
        assert [r.kind for r in replies] == [Kind.NOTICE], button[:40]
    # The real conversation is unharmed.
    replies = await chat.say("ana", "yes")
    assert [r.kind for r in replies] == [Kind.SATISFACTION_CHECK]


async def _a_duplicate_event_gets_one_reply(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    first = await chat.say("ana", "where is my order", event_id="E1")
    second = await chat.say("ana", "where is my order", event_id="E1")
    assert [r.kind for r in first] == [Kind.ANSWER, Kind.RESOLUTION_CHECK]
    assert second == []
    assert (await inbound_texts(unit_of_work)).count("where is my order") == 1
    other = await chat.say("ana", "yes", event_id="E2")
    assert [r.kind for r in other] == [Kind.SATISFACTION_CHECK]


async def test_broken_text_is_handled(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Empty lines are ignored; a huge message is answered and stored truncated."""
    await _empty_lines_are_ignored(chat, unit_of_work)
    await _huge_message_is_answered_and_stored_truncated(chat, unit_of_work)


async def test_hostile_text_and_buttons_are_harmless(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Template syntax is stored as typed and never run; garbage buttons get a notice."""
    await _template_syntax_from_a_customer_is_never_executed(chat, unit_of_work)
    await _unknown_and_garbage_buttons_get_a_notice(chat)


async def test_control_characters_and_duplicate_events(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Control characters are stripped; a replayed event id gets no second reply."""
    await _control_characters_are_stripped(chat, unit_of_work)
    await _a_duplicate_event_gets_one_reply(chat, unit_of_work)
