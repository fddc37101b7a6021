"""Rule 4: sell only to the satisfied, within budget, never after opt-out, frustration or with a need open."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from handlers.messages import Kind, Reply
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver

BATTERY = "My battery only lasts about 15 km now, it used to do 60"
FRUSTRATED_BATTERY = "THIS IS THE THIRD TIME I ASK!!! MY BATTERY ONLY LASTS 15 KM NOW, IT USED TO DO 60!!!"
SELLING = (Kind.OFFER, Kind.REFERRAL)


async def serve_and_rate(chat: ChatDriver, user: str, score: int, text: str = BATTERY) -> list[Reply]:
    """Ask, confirm it solved the problem, rate it; return the replies to the rating."""
    await chat.say(user, text)
    check = await chat.press(user, chat.button(chat.transcript[-1:], "resolved:").replace(":no", ":yes"))
    assert [r.kind for r in check] == [Kind.SATISFACTION_CHECK]
    return await chat.press(user, chat.button(check, "rate:").rsplit(":", 1)[0] + f":{score}")


def sold(replies: list[Reply]) -> bool:
    return any(r.kind in SELLING for r in replies)


async def offers_of(unit_of_work: UnitOfWorkFactory, user: str) -> list[SimpleNamespace]:
    async with unit_of_work() as uow:
        customer = await uow.customers.by_key(f"console:{user}")
        assert customer is not None
        offers = await uow.offers.since(customer.id, customer.created_at)
        needs = {n.id: n for n in await uow.needs.for_customer(customer.id)}
        return [
            SimpleNamespace(
                kind=o.kind, sku=o.sku, reason=o.reason, status=o.status, need_id=o.need_id,
                need_topic=needs[o.need_id].topic if o.need_id in needs else None,
                need_tags=list(needs[o.need_id].tags) if o.need_id in needs else [],
            )
            for o in reversed(offers)
        ]


async def _rating_five_leads_to_an_offer_with_a_reason_naming_the_need(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory, demo_services: object
) -> None:
    replies = await serve_and_rate(chat, "ana", 5)
    assert [r.kind for r in replies][-1] == Kind.OFFER
    [offer] = await offers_of(unit_of_work, "ana")
    assert offer.kind == "product"
    assert offer.need_topic == "battery_range"
    assert f"#{offer.need_id}" in offer.reason and "battery_range" in offer.reason
    product = next(p for p in demo_services.knowledge.products if p.sku == offer.sku)  # type: ignore[attr-defined]
    assert set(product.serves) & set(offer.need_tags), "the product serves one of the customer's needs"
    assert product.name in replies[-1].text


async def _low_ratings_never_lead_to_selling(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    for score in (1, 2, 3):
        user = f"low{score}"
        replies = await serve_and_rate(chat, user, score)
        assert not sold(replies), (score, [r.kind for r in replies])
        assert await offers_of(unit_of_work, user) == []


async def _typed_low_rating_never_leads_to_selling(chat: ChatDriver) -> None:
    await chat.say("tia", BATTERY)
    await chat.say("tia", "yes")
    replies = await chat.say("tia", "3")
    assert replies and not sold(replies)
    assert Kind.OFFER not in chat.kinds("tia")


async def _frustration_in_the_conversation_blocks_selling(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    replies = await serve_and_rate(chat, "ben", 5, FRUSTRATED_BATTERY)
    assert not sold(replies)
    assert await offers_of(unit_of_work, "ben") == []


async def _frustration_earlier_in_the_same_conversation_blocks_selling(chat: ChatDriver) -> None:
    await chat.say("bo", "THIS IS THE THIRD TIME I ASK WHERE MY ORDER IS!!!")
    await chat.press_label("bo", 1)  # yes, solved (rating pending)
    replies = await serve_and_rate(chat, "bo", 5)
    assert not sold(replies)


async def _another_open_need_blocks_selling(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    await chat.say("cai", "my card was declined")  # left unanswered: still open
    replies = await serve_and_rate(chat, "cai", 5)
    assert not sold(replies)
    assert await offers_of(unit_of_work, "cai") == []


async def _opt_out_blocks_selling(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    confirmation = await chat.say("dee", "stop offers")
    assert [r.kind for r in confirmation] == [Kind.NOTICE]
    replies = await serve_and_rate(chat, "dee", 5)
    assert not sold(replies)
    assert await offers_of(unit_of_work, "dee") == []


async def _an_opted_out_customer_still_gets_the_satisfaction_check(chat: ChatDriver) -> None:
    await chat.command("dot", "optout")
    await chat.say("dot", BATTERY)
    replies = await chat.say("dot", "yes")
    assert [r.kind for r in replies] == [Kind.SATISFACTION_CHECK]


async def test_contact_budget_allows_two_offers_in_thirty_days(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    first = await serve_and_rate(chat, "eli", 5)
    await chat.advance(timedelta(days=2))
    second = await serve_and_rate(chat, "eli", 5, "the chain keeps falling off")
    await chat.advance(timedelta(days=2))
    third = await serve_and_rate(chat, "eli", 5, "I lost my battery key")
    assert sold(first) and sold(second)
    assert not sold(third), "a third offer within 30 days breaks the budget"
    assert len(await offers_of(unit_of_work, "eli")) == 2
    await chat.advance(timedelta(days=31))
    fourth = await serve_and_rate(chat, "eli", 5, "I lost my battery key")
    assert sold(fourth), "the budget frees up after 30 days"


async def test_no_thanks_starts_a_cooldown(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    first = await serve_and_rate(chat, "fay", 5)
    declined = await chat.press("fay", chat.button(first, "offer:").replace(":accept", ":decline"))
    assert [r.kind for r in declined] == [Kind.NOTICE]
    await chat.advance(timedelta(days=3))
    second = await serve_and_rate(chat, "fay", 5, "the chain keeps falling off")
    assert not sold(second), "no offer within the cooldown after no thanks"
    await chat.advance(timedelta(days=15))
    third = await serve_and_rate(chat, "fay", 5, "I lost my battery key")
    assert sold(third), "after the cooldown, offers resume"
    statuses = [o.status for o in await offers_of(unit_of_work, "fay")]
    assert statuses == ["declined", "made"]


async def _offered_product_serves_a_recorded_need(chat: ChatDriver, unit_of_work: UnitOfWorkFactory,
                                                      demo_services: object) -> None:
    for user, text in [("gus", "I lost my battery key"), ("hal", "the chain keeps falling off"),
                       ("ida", "I want to rent a bike")]:
        replies = await serve_and_rate(chat, user, 5, text)
        assert replies[-1].kind == Kind.OFFER
        [offer] = await offers_of(unit_of_work, user)
        product = next(p for p in demo_services.knowledge.products if p.sku == offer.sku)  # type: ignore[attr-defined]
        assert set(product.serves) & set(offer.need_tags), (user, offer)


async def test_satisfied_customers_get_an_offer_that_serves_their_need(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory, demo_services: object
) -> None:
    """A 5 rating leads to an offer; the offer names the need it serves."""
    await _rating_five_leads_to_an_offer_with_a_reason_naming_the_need(chat, unit_of_work, demo_services)
    await _offered_product_serves_a_recorded_need(chat, unit_of_work, demo_services)


async def test_no_selling_when_any_condition_fails(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Low ratings, frustration, an open need or an opt-out each block selling."""
    await _low_ratings_never_lead_to_selling(chat, unit_of_work)
    await _typed_low_rating_never_leads_to_selling(chat)
    await _frustration_in_the_conversation_blocks_selling(chat, unit_of_work)
    await _frustration_earlier_in_the_same_conversation_blocks_selling(chat)
    await _another_open_need_blocks_selling(chat, unit_of_work)
    await _opt_out_blocks_selling(chat, unit_of_work)
    await _an_opted_out_customer_still_gets_the_satisfaction_check(chat)
