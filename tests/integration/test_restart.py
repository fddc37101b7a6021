"""The conversation lives in the database: a brand-new core on the same database carries on."""

from __future__ import annotations

from datetime import timedelta

from handlers.app import Concierge
from handlers.messages import Kind
from handlers.turn import Services
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver, StepClock


async def _conversation_continues_on_a_new_core(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    first = await chat.say("ana", "My battery only lasts about 15 km now, it used to do 60")
    assert [r.kind for r in first] == [Kind.ANSWER, Kind.RESOLUTION_CHECK]

    restarted = ChatDriver(Concierge(unit_of_work, demo_services, clock), clock)
    check = await restarted.say("ana", "yes")
    assert [r.kind for r in check] == [Kind.SATISFACTION_CHECK]

    again = ChatDriver(Concierge(unit_of_work, demo_services, clock), clock)
    rated = await again.press("ana", chat.button(check, "rate:").rsplit(":", 1)[0] + ":5")
    assert rated[-1].kind == Kind.OFFER
    # A button from before the restart still belongs to its record.
    accepted = await again.press("ana", again.button(rated, "offer:"))
    assert [r.kind for r in accepted] == [Kind.NOTICE]

    # Follow-ups scheduled by one process are fired by another.
    later = ChatDriver(Concierge(unit_of_work, demo_services, clock), clock)
    followups = await later.advance(timedelta(days=4))
    assert [(r.kind, r.to) for r in followups] == [(Kind.FOLLOWUP, "ana")]


async def _handoff_survives_a_restart(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    await chat.say("ben", "can I talk to a person")
    restarted = ChatDriver(Concierge(unit_of_work, demo_services, clock), clock)
    replies = await restarted.say("ben", "where is my order")
    assert [r for r in replies if r.to == "ben"] == [], "still with a person after the restart"


async def test_state_survives_restarts(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    """Conversations and handoffs continue on brand-new cores over the same database."""
    await _conversation_continues_on_a_new_core(chat, unit_of_work, demo_services, clock)
    await _handoff_survives_a_restart(chat, unit_of_work, demo_services, clock)
