"""Rule 9: a person on request at once, then the bot stays quiet; forged buttons do no harm."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.messages import DESK, Kind
from storage.models import Handoff, Offer
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver


async def _asking_for_a_person_hands_over_and_the_bot_goes_quiet(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.say("ana", "where is my order")
    replies = await chat.say("ana", "can I talk to a person")
    assert [r.kind for r in replies if r.to == "ana"] == [Kind.HANDOFF]
    async with unit_of_work() as uow:
        [ticket] = (await uow.session.scalars(select(Handoff))).all()  # type: ignore[attr-defined]
        assert ticket.status == "queued"
        customer = await uow.customers.by_key("console:ana")
        assert customer is not None and ticket.customer_id == customer.id
        assert [n.status for n in await uow.needs.for_customer(customer.id)] == ["handed_off"]

    for text in ("hello?", "where is my order", "yes", "5", "THIS IS THE THIRD TIME I ASK WHERE MY ORDER IS!!!"):
        # The customer's words go to the agent desk; the bot itself says nothing to them.
        assert [r.to for r in await chat.say("ana", text)] == [DESK], text
    resolution = chat.button(chat.transcript, "resolved:")
    assert [r for r in await chat.press("ana", resolution) if r.to == "ana"] == [], "old buttons stay silent too"
    assert chat.kinds("ana")[-1] == Kind.HANDOFF

    # The customer's rights still work while a person has the conversation.
    optout = await chat.say("ana", "stop offers")
    assert [r.kind for r in optout] == [Kind.NOTICE]
    # Other customers are still served.
    assert [r.kind for r in await chat.say("ben", "where is my order")] == [Kind.ANSWER, Kind.RESOLUTION_CHECK]


async def _the_handoff_command_hands_over_at_once(chat: ChatDriver) -> None:
    replies = await chat.command("cai", "handoff")
    assert [r.kind for r in replies if r.to == "cai"] == [Kind.HANDOFF]
    assert [r for r in await chat.say("cai", "my card was declined") if r.to == "cai"] == []


async def test_forged_buttons_from_another_conversation_do_nothing(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    first = await chat.say("ana", "My battery only lasts about 15 km now, it used to do 60")
    resolved_yes = chat.button(first, "resolved:")
    await chat.say("ben", "how much is shipping")
    for forged in (resolved_yes, resolved_yes.replace(":yes", ":no"), resolved_yes.replace("resolved:", "person:"),
                   resolved_yes.replace("resolved:", "rate:").replace(":yes", ":1")):
        replies = await chat.press("ben", forged)
        assert [r.kind for r in replies] == [Kind.NOTICE], forged
        assert not replies[0].buttons
    async with unit_of_work() as uow:
        ana = await uow.customers.by_key("console:ana")
        assert ana is not None
        ana_id = ana.id
        assert [n.status for n in await uow.needs.for_customer(ana.id)] == ["open"]
        assert (await uow.conversations.open_for(ana.id)).state == "await_resolution"  # type: ignore[union-attr]
        assert (await uow.session.scalars(select(Handoff))).all() == []  # type: ignore[attr-defined]

    # Ana's own buttons still work; then Ben forges the offer, follow-up and erase buttons.
    await chat.press("ana", resolved_yes)
    offer_replies = await chat.press_label("ana", 5)
    accept = chat.button(offer_replies, "offer:")
    forged_offer = await chat.press("ben", accept)
    assert [r.kind for r in forged_offer] == [Kind.NOTICE]
    forget = f"forget:{ana_id}:confirm"
    forged_forget = await chat.press("ben", forget)
    assert all(r.kind == Kind.NOTICE for r in forged_forget)
    async with unit_of_work() as uow:
        [offer] = (await uow.session.scalars(select(Offer))).all()  # type: ignore[attr-defined]
        assert offer.status == "made"
        assert await uow.customers.by_key("console:ana") is not None, "another customer cannot erase Ana"
        assert await uow.customers.by_key("console:ben") is not None, "nor is Ben erased without confirming"


async def test_no_follow_up_is_sent_while_a_person_has_the_conversation(chat: ChatDriver) -> None:
    await chat.say("dee", "my card was declined")
    await chat.say("dee", "yes")  # resolved: a follow-up is scheduled
    handed = await chat.say("dee", "can I talk to a person")
    assert [r.kind for r in handed if r.to == "dee"] == [Kind.HANDOFF]
    followups = await chat.advance(timedelta(days=4))
    assert [r for r in followups if r.to == "dee"] == [], "the bot said something on its own during a handoff"


async def test_a_person_on_request(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Typed or by command, a person takes over at once and the bot goes quiet."""
    await _asking_for_a_person_hands_over_and_the_bot_goes_quiet(chat, unit_of_work)
    await _the_handoff_command_hands_over_at_once(chat)
