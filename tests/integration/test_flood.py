"""Flood control: past the per-minute limit a customer gets one notice, everything is stored, replies pause."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from handlers.messages import Kind
from storage.models import Message
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver


async def _inbound_count(unit_of_work: UnitOfWorkFactory) -> int:
    async with unit_of_work() as uow:
        query = select(func.count(Message.id)).where(Message.direction == "in")
        return int(await uow.session.scalar(query) or 0)  # type: ignore[attr-defined]


async def test_a_flood_gets_one_notice_and_answers_resume_after_a_minute(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    """25 quick messages: 20 answered, one flood notice, all 25 stored; a minute later answers resume."""
    answered: list[list[Kind]] = []
    for n in range(25):
        replies = await chat.say("ana", f"where is my order {n}")
        answered.append([r.kind for r in replies])
    assert all(kinds and Kind.NOTICE not in kinds for kinds in answered[:20])
    assert answered[20] == [Kind.NOTICE]
    assert answered[21:] == [[]] * 4
    notices = [r for r in chat.transcript if r.kind == Kind.NOTICE]
    assert len(notices) == 1 and "faster than I can answer" in notices[0].text
    assert await _inbound_count(unit_of_work) == 25

    chat.clock.advance(timedelta(seconds=61))
    replies = await chat.say("ana", "where is my order")
    assert replies and replies[0].kind == Kind.ANSWER
    assert [r.kind for r in chat.transcript].count(Kind.NOTICE) == 1


async def test_one_flooding_customer_does_not_slow_down_another(chat: ChatDriver) -> None:
    """The limit is per customer; a person on request still gets through a flood."""
    for n in range(22):
        await chat.say("ana", f"hello? {n}")
    assert next(r.kind for r in await chat.say("ben", "where is my order")) == Kind.ANSWER
    # The ticket card also goes to the agent desk; Ana herself gets the handoff message only.
    assert [r.kind for r in await chat.say("ana", "can I talk to a person") if r.to == "ana"] == [Kind.HANDOFF]
