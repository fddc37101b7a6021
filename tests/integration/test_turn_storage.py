"""What one turn writes: the customer's message, then each reply as its own row, named by the reply."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Message
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver


async def _messages(unit_of_work: UnitOfWorkFactory) -> list[tuple[int, str, str]]:
    """Every stored message as (id, direction, text), in id order."""
    async with unit_of_work() as uow:
        query = select(Message.id, Message.direction, Message.text).order_by(Message.id)
        return [tuple(row) for row in await uow.session.execute(query)]  # type: ignore[attr-defined]


async def test_every_reply_names_the_row_it_was_stored_as(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Replies written in one INSERT still get their own rows' ids, in order, after the customer's message."""
    first = await chat.say("ana", "my battery won't charge")
    second = await chat.say("ana", "no")
    assert len(first) >= 2 and second
    rows = await _messages(unit_of_work)
    replies = [*first, *second]
    stored = {key: (direction, text) for key, direction, text in rows}
    assert [stored.get(r.message_id or 0) for r in replies] == [("out", r.text) for r in replies]
    # In the order of the conversation: each turn's customer message, then its replies.
    assert [(direction, text) for _, direction, text in rows] == [
        ("in", "my battery won't charge"), *[("out", r.text) for r in first], ("in", "no"),
        *[("out", r.text) for r in second],
    ]
