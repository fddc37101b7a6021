"""Rule 6: some days after a resolution the bot checks in; no reopens the need, yes may lead to an offer."""

from __future__ import annotations

from datetime import timedelta

from handlers.messages import Kind
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver

BATTERY = "My battery only lasts about 15 km now, it used to do 60"


async def need_statuses(unit_of_work: UnitOfWorkFactory, user: str) -> list[str]:
    async with unit_of_work() as uow:
        customer = await uow.customers.by_key(f"console:{user}")
        assert customer is not None
        return [n.status for n in await uow.needs.for_customer(customer.id)]


async def _followup_is_sent_after_the_delay_and_only_once(chat: ChatDriver) -> None:
    await chat.say("ana", BATTERY)
    await chat.say("ana", "yes")
    assert await chat.advance(timedelta(days=2)) == [], "not before the configured delay"
    replies = await chat.advance(timedelta(days=2))
    assert [(r.kind, r.to) for r in replies] == [(Kind.FOLLOWUP, "ana")]
    ids = sorted(b.id.rsplit(":", 1)[1] for b in replies[0].buttons)
    assert ids == ["no", "yes"]
    assert await chat.advance(timedelta(days=4)) == [], "a follow-up is sent once"


async def _no_reopens_the_need_and_a_person_is_offered(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    await chat.say("ben", "where is my order")
    await chat.say("ben", "yes")
    assert await need_statuses(unit_of_work, "ben") == ["resolved"]
    followup = await chat.advance(timedelta(days=4))
    replies = await chat.press("ben", chat.button(followup, "followup:").replace(":yes", ":no"))
    assert replies and replies[0].kind == Kind.RECOVERY
    assert chat.button(replies, "person:")
    assert await need_statuses(unit_of_work, "ben") == ["open"]
    # Typed "no" to a check-in works too.
    await chat.say("bea", "my card was declined")
    await chat.say("bea", "yes")
    await chat.advance(timedelta(days=4))
    typed = await chat.say("bea", "no")
    assert typed and typed[0].kind == Kind.RECOVERY
    assert await need_statuses(unit_of_work, "bea") == ["open"]


async def test_yes_may_lead_to_an_offer_but_not_when_opted_out(chat: ChatDriver) -> None:
    for user in ("cai", "dee"):
        await chat.say(user, BATTERY)
        await chat.say(user, "yes")  # resolved; no rating given
    await chat.command("dee", "optout")
    followups = await chat.advance(timedelta(days=4))
    assert sorted(r.to for r in followups) == ["cai", "dee"]
    cai = await chat.press("cai", chat.button([r for r in followups if r.to == "cai"], "followup:"))
    dee = await chat.press("dee", chat.button([r for r in followups if r.to == "dee"], "followup:"))
    assert Kind.OFFER in [r.kind for r in cai]
    assert [r.kind for r in dee] == [Kind.NOTICE], "no selling to an opted-out customer"
    again = await chat.press("cai", chat.button([r for r in followups if r.to == "cai"], "followup:"))
    assert [r.kind for r in again] == [Kind.NOTICE], "answering a check-in twice changes nothing"


async def test_followup_is_sent_and_no_reopens_the_need(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """The check-in comes after the delay, once; no reopens the need."""
    await _followup_is_sent_after_the_delay_and_only_once(chat)
    await _no_reopens_the_need_and_a_person_is_offered(chat, unit_of_work)
