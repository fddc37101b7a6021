"""Access: manager and agent commands are refused to customers; a button forwarded to someone else does nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.desk import DESK_COMMANDS
from handlers.messages import DESK, Kind
from storage.models import FollowUp, Handoff, Need
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver

AGENT = "agent"  # console:agent is an agent in the test roles; console:manager a manager


async def _ticket_statuses(unit_of_work: UnitOfWorkFactory) -> list[tuple[str, str | None]]:
    async with unit_of_work() as uow:
        rows = (await uow.session.scalars(select(Handoff).order_by(Handoff.id))).all()  # type: ignore[attr-defined]
        return [(h.status, h.agent_key) for h in rows]


async def test_customers_are_refused_every_manager_and_agent_command(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    """Each refusal is one private notice to the asker: no figures, nothing to the desk, no ticket changed."""
    await chat.say("ana", "where is my order")
    await chat.say("ana", "can I talk to a person")
    before = await _ticket_statuses(unit_of_work)
    assert before == [("queued", None)]
    seen = len(chat.transcript)
    attempts = [("stats",), ("stats", "all"), *((name, "1", "hello") for name in sorted(DESK_COMMANDS))]
    for customer in ("ana", "ben"):
        for command, *args in attempts:
            replies = await chat.command(customer, command, *args)
            assert [(r.to, r.kind, r.ephemeral) for r in replies] == [(customer, Kind.NOTICE, True)], command
            assert not replies[0].attachments and not replies[0].buttons, command
    assert await _ticket_statuses(unit_of_work) == before
    assert all(r.to != DESK for r in chat.transcript[seen:]), "a customer's command reached the desk"
    # An agent is no manager: stats stay refused to them too.
    [agent_stats] = await chat.command(AGENT, "stats")
    assert (agent_stats.kind, agent_stats.ephemeral) == (Kind.NOTICE, True)
    [manager_stats] = await chat.command("manager", "stats")
    assert manager_stats.kind == Kind.STATS


async def test_a_desk_button_pressed_by_a_customer_claims_nothing(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.say("ana", "where is my order")
    handed = await chat.say("ana", "can I talk to a person")
    claim = chat.button([r for r in handed if r.to == DESK], "claim:")
    for customer in ("ana", "ben"):
        replies = await chat.press(customer, claim)
        assert [(r.to, r.kind) for r in replies] == [(customer, Kind.NOTICE)]
    assert await _ticket_statuses(unit_of_work) == [("queued", None)]


async def test_a_follow_up_button_forwarded_to_another_customer_does_nothing(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.say("ana", "where is my order")
    await chat.say("ana", "yes")
    followups = await chat.advance(timedelta(days=4))
    [message] = [r for r in followups if r.to == "ana" and r.buttons]
    no = chat.button([message], "followup:")
    no = no.rsplit(":", 1)[0] + ":no"
    await chat.say("ben", "how much is shipping")
    replies = await chat.press("ben", no)
    assert [(r.to, r.kind) for r in replies] == [("ben", Kind.NOTICE)]
    async with unit_of_work() as uow:
        [followup] = (await uow.session.scalars(select(FollowUp))).all()  # type: ignore[attr-defined]
        assert followup.answered_at is None, "another customer answered Ana's follow-up"
        ana = await uow.customers.by_key("console:ana")
        assert ana is not None
        needs = (await uow.session.scalars(select(Need).where(Need.customer_id == ana.id))).all()  # type: ignore[attr-defined]
        assert [n.status for n in needs] == ["resolved"], "Ana's need was reopened by someone else"
    # Ana's own button still works.
    assert [r.kind for r in await chat.press("ana", no)] != [Kind.NOTICE]
