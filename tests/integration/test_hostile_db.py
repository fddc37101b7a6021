"""Hostile text and buttons over the real core and a real database (a smaller run than the fakes')."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from handlers.app import _CONTROL
from handlers.redaction import redact
from storage.models import Conversation, Customer, Message
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver
from tests.unit.test_hostile_engine import INJECTIONS, LEAKS, garbage_buttons, hostile_text

REAL_DB = settings(
    max_examples=20, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_users = itertools.count()


async def _stored_for(unit_of_work: UnitOfWorkFactory, key: str) -> list[str]:
    async with unit_of_work() as uow:
        query = (
            select(Message.text)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .join(Customer, Conversation.customer_id == Customer.id)
            .where(Customer.key == key, Message.direction == "in")
            .order_by(Message.id)
        )
        return list((await uow.session.scalars(query)).all())  # type: ignore[attr-defined]


@REAL_DB
@given(hostile_text, garbage_buttons)
async def test_hostile_text_and_buttons_on_a_real_database(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory, text: str, button: str
) -> None:
    user = f"hostile{next(_users)}"
    replies = await chat.say(user, text, display_name=text)
    replies += await chat.press(user, button)
    for reply in replies:
        assert reply.to == user
        for leak in LEAKS:
            assert leak not in reply.text or leak in text or leak in button, (leak, reply.text[:200])
    cleaned = _CONTROL.sub("", text).strip()
    stored = await _stored_for(unit_of_work, f"console:{user}")
    if cleaned:
        assert stored[0] == redact(cleaned[:20_000])


async def test_nul_and_overlong_names_buttons_and_arguments_are_stored(chat: ChatDriver) -> None:
    """PostgreSQL refuses NUL in text and names are 200 characters at most; neither may crash a turn."""
    assert await chat.say("nul", "where is my\x00 order", display_name="A\x00" + "n" * 500)
    assert await chat.press("nul", "rate:1:5\x00")
    assert await chat.command("nul", "optout", "\x00now")


async def test_every_injection_is_stored_as_typed_on_a_real_database(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    for n, text in enumerate(INJECTIONS):
        user = f"inject{n}"
        replies = await chat.say(user, text)
        assert all("49" not in r.text and "<class" not in r.text for r in replies), text
        cleaned = _CONTROL.sub("", text).strip()
        assert await _stored_for(unit_of_work, f"console:{user}") == ([redact(cleaned)] if cleaned else []), text
