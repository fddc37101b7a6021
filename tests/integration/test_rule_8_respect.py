"""Rule 8: opting out of selling is immediate and confirmed; customers can have their data erased."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from handlers.messages import Kind
from storage.models import Conversation, Message, Need, Rating
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver


async def opted_out(unit_of_work: UnitOfWorkFactory, user: str) -> bool:
    async with unit_of_work() as uow:
        customer = await uow.customers.by_key(f"console:{user}")
        assert customer is not None
        return customer.opted_out and customer.opted_out_at is not None


async def test_stop_offers_and_the_optout_command_opt_out_with_a_confirmation(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.say("ana", "where is my order")
    assert not await opted_out(unit_of_work, "ana")
    typed = await chat.say("ana", "stop offers")
    assert [r.kind for r in typed] == [Kind.NOTICE]
    assert "offers" in typed[0].text.lower()
    assert await opted_out(unit_of_work, "ana")

    command = await chat.command("ben", "optout")
    assert [r.kind for r in command] == [Kind.NOTICE] and command[0].text == typed[0].text
    assert await opted_out(unit_of_work, "ben")


async def test_delete_my_data_asks_first_then_erases_everything(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.say("ana", "where is my order")
    await chat.say("ana", "yes")
    await chat.say("ana", "5")
    await chat.say("keep", "how much is shipping")
    async with unit_of_work() as uow:
        ana = await uow.customers.by_key("console:ana")
        assert ana is not None
        ana_id = ana.id

    ask = await chat.say("ana", "please delete my data")
    assert [r.kind for r in ask] == [Kind.NOTICE]
    confirm = chat.button(ask, "forget:")
    async with unit_of_work() as uow:
        assert await uow.customers.by_key("console:ana") is not None, "nothing erased before confirmation"

    done = await chat.press("ana", confirm)
    assert [r.kind for r in done] == [Kind.NOTICE]
    async with unit_of_work() as uow:
        assert await uow.customers.by_key("console:ana") is None
        session = uow.session  # type: ignore[attr-defined]
        for model in (Conversation, Need, Rating):
            count = await session.scalar(select(func.count()).select_from(model).where(model.customer_id == ana_id))
            assert count == 0, model.__name__
        messages = await session.scalar(
            select(func.count()).select_from(Message).where(Message.text.contains("delete my data"))
        )
        assert messages == 0
        assert await uow.customers.by_key("console:keep") is not None, "other customers are untouched"

    again = await chat.press("ana", confirm)
    assert all(r.kind == Kind.NOTICE for r in again)


async def test_a_customer_can_get_a_copy_of_their_data(chat: ChatDriver) -> None:
    await chat.say("ana", "I want to return my helmet, my email is ana.smith@example.com")
    await chat.say("ben", "how much is shipping")
    replies = await chat.say("ana", "send me my data")
    assert [r.kind for r in replies] == [Kind.NOTICE]
    [attachment] = replies[0].attachments
    document = json.loads(attachment.content)
    dumped = json.dumps(document)
    assert "return my helmet" in dumped and "ana.smith@example.com" not in dumped
    assert "console:ana" in dumped
    assert "shipping" not in dumped and "console:ben" not in dumped
