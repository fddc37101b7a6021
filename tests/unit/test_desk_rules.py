"""The agent desk on fakes: the card's assist, where desk messages go, and who may act on a ticket."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import cast

from handlers import desk
from handlers.app import Concierge
from handlers.messages import DESK, Inbound, Kind, Reply
from handlers.policy import Policy, Roles
from handlers.replies import Templates
from handlers.turn import Services
from storage.unit_of_work import UnitOfWork
from tests.fakes.storage import FakeUnitOfWork
from tests.support.driver import StepClock
from tests.unit.test_engine_with_fakes import KNOWLEDGE, ScriptedUnderstander

ROLES = Roles(managers=frozenset({"slack:UBOSS"}), agents=frozenset({"slack:UAGENT", "discord:7"}))
POLICY = Policy(roles=ROLES, desk_platforms=("slack", "console"))


def make_core() -> tuple[Concierge, FakeUnitOfWork, StepClock]:
    uow = FakeUnitOfWork()
    clock = StepClock()
    services = Services(KNOWLEDGE, ScriptedUnderstander(), Templates(seed=1), POLICY)
    return Concierge(lambda: cast(UnitOfWork, uow), services, clock), uow, clock


async def send(core: Concierge, clock: StepClock, inbound: Inbound) -> list[Reply]:
    clock.advance(timedelta(seconds=5))
    return await core.handle(inbound)


def test_a_ticket_goes_to_its_platforms_desk_or_the_first_one() -> None:
    services = Services(KNOWLEDGE, ScriptedUnderstander(), Templates(seed=1), POLICY)
    assert desk.desk_for(services, "slack") == "slack"
    assert desk.desk_for(services, "discord") == "slack"
    assert desk.desk_for(replace(services, policy=Policy()), "discord") == "console"
    assert desk.is_desk_button("claim:3:go") and not desk.is_desk_button("rate:3:5")
    assert desk.is_desk_command("reply") and not desk.is_desk_command("stats")


async def test_a_discord_customer_is_served_from_the_slack_desk() -> None:
    core, uow, clock = make_core()
    await send(core, clock, Inbound("discord", "555", text="my tyre is flat"))
    handed = await send(core, clock, Inbound("discord", "555", command="handoff"))
    [card] = [r for r in handed if r.to == DESK]
    assert card.platform == "slack", "no Discord desk is configured, so the first desk gets the card"
    assert "Armoured tyres (TYRE-1)" in card.text and "not allowed" in card.text
    assert "Flat tyre (handed_off)" in card.text

    await send(core, clock, Inbound("slack", "UAGENT", button_id="claim:1:go"))
    sent = await send(core, clock, Inbound("slack", "UAGENT", command="reply", args=("1", "On", "it.")))
    assert [(r.platform, r.to, r.kind, r.text) for r in sent] == [
        ("discord", "555", Kind.AGENT, "On it."),
        ("slack", DESK, Kind.NOTICE, "Sent to discord:555 (ticket 1) by slack:UAGENT: On it."),
    ]
    relayed = await send(core, clock, Inbound("discord", "555", text="thanks, waiting"))
    assert [(r.platform, r.to) for r in relayed] == [("slack", DESK)]
    [ticket] = uow.handoffs.rows
    assert ticket.first_reply_at is not None and ticket.agent_key == "slack:UAGENT"
    assert [m.author for m in uow.conversations.messages if m.kind == "agent"] == ["slack:UAGENT"]


async def test_only_the_holder_or_a_manager_acts_on_a_claimed_ticket() -> None:
    core, uow, clock = make_core()
    await send(core, clock, Inbound("discord", "555", command="handoff"))
    await send(core, clock, Inbound("slack", "UAGENT", command="claim", args=("1",)))
    taken = await send(core, clock, Inbound("discord", "7", command="claim", args=("1",)))
    assert [(r.to, r.ephemeral) for r in taken] == [("7", True)] and "held by slack:UAGENT" in taken[0].text
    refused = await send(core, clock, Inbound("discord", "7", command="release", args=("1",)))
    assert refused[0].to == "7" and uow.handoffs.rows[0].status == "claimed"
    customer = await send(core, clock, Inbound("discord", "555", command="claim", args=("1",)))
    assert customer[0].ephemeral and "only for agents" in customer[0].text
    bad = await send(core, clock, Inbound("slack", "UAGENT", command="reply", args=("x",)))
    assert "Usage: reply TICKET TEXT" in bad[0].text
    released = await send(core, clock, Inbound("slack", "UBOSS", command="release", args=("1",)))
    assert [r.kind for r in released if r.to == "555"] == [Kind.SATISFACTION_CHECK]
    assert uow.handoffs.rows[0].status == "released" and uow.handoffs.rows[0].ended_at is not None
    again = await send(core, clock, Inbound("slack", "UAGENT", command="release", args=("1",)))
    assert "no open ticket 1" in again[0].text
