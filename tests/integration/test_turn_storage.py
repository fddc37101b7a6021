"""What one turn writes: the customer's message, then each reply as its own row, named by the reply."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.messages import Kind, Reply
from storage.models import Conversation, Customer, Message, Need
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


async def _statements_of(
    unit_of_work: UnitOfWorkFactory, turn: Awaitable[list[Reply]]
) -> tuple[list[Reply], list[str]]:
    """Run a turn; return its replies and every SQL statement it sent."""
    async with unit_of_work() as uow:
        engine = uow.session.bind  # type: ignore[attr-defined]
    assert isinstance(engine, AsyncEngine)
    sent: list[str] = []

    def seen(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        return await turn, sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)


async def test_the_need_a_conversation_waits_on_comes_with_the_customer(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    """Answering "did that solve it?" resolves the recorded need without a query of its own for it."""
    await chat.say("ana", "My battery only lasts about 15 km now, it used to do 60")
    solved = chat.button(chat.transcript[-1:], "resolved:").replace(":no", ":yes")
    replies, sent = await _statements_of(unit_of_work, chat.press("ana", solved))
    assert [r.kind for r in replies] == [Kind.SATISFACTION_CHECK]
    assert not [s for s in sent if s.lstrip().startswith("SELECT needs.")]
    async with unit_of_work() as uow:
        customer = await uow.customers.by_key("console:ana")
        assert customer is not None
        assert [need.status for need in await uow.needs.for_customer(customer.id)] == ["resolved"]


async def test_a_rating_turn_writes_its_records_once_at_the_end(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    """The rating, the closed conversation and the offer it leads to are each written once, not once per read."""
    await chat.say("ana", "My battery only lasts about 15 km now, it used to do 60")
    check = await chat.press("ana", chat.button(chat.transcript[-1:], "resolved:").replace(":no", ":yes"))
    rate_five = chat.button(check, "rate:").rsplit(":", 1)[0] + ":5"
    replies, sent = await _statements_of(unit_of_work, chat.press("ana", rate_five))
    assert [r.kind for r in replies][-1] == Kind.OFFER
    # The rating the customer just gave decides the offer; it is not read back from the database.
    assert not [s for s in sent if s.lstrip().upper().startswith("SELECT") and "FROM ratings" in s]
    written = " ".join(sent)
    assert written.count("UPDATE conversations") == 1
    assert written.count("INSERT INTO ratings") == 1


async def test_a_read_sees_what_the_turn_changed_in_its_own_table(unit_of_work: UnitOfWorkFactory) -> None:
    """Unwritten needs are flushed before needs are read, so a need staged or resolved in the turn counts."""
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with unit_of_work() as uow:
        customer = await uow.customers.add(Customer(key="console:ana", opted_out=False, vip=False, created_at=now))
        conversation = await uow.conversations.add(Conversation(
            customer_id=customer.id, state="idle", context={}, opened_at=now, last_message_at=now, closed_at=None,
        ))
        first = uow.needs.stage(Need(customer_id=customer.id, conversation_id=conversation.id, topic="battery",
                                     words="my battery", status="open", created_at=now, resolved_at=None))
        assert [need.topic for need in await uow.needs.open_for(customer.id)] == ["battery"]
        first.status = "resolved"
        uow.needs.stage(Need(customer_id=customer.id, conversation_id=conversation.id, topic="brakes",
                             words="my brakes", status="open", created_at=now, resolved_at=None))
        assert [need.topic for need in await uow.needs.open_for(customer.id)] == ["brakes"]
        assert [need.topic for need in await uow.needs.for_customer(customer.id)] == ["battery", "brakes"]
