"""Rule 7: satisfied customers get a personal referral code; new customers who bring it are linked and counted."""

from __future__ import annotations

import re
from datetime import timedelta

from handlers import stats
from handlers.messages import Kind, Reply
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver

CODE = re.compile(r"\bREF-[A-Z0-9]{6}\b")


async def serve_and_rate_five(chat: ChatDriver, user: str, text: str) -> list[Reply]:
    await chat.say(user, text)
    await chat.say(user, "yes")
    return await chat.say(user, "5")


async def test_referral_code_is_given_then_redeemed_by_a_new_customer_only(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    replies = await serve_and_rate_five(chat, "ana", "where is my order")  # no product serves delivery
    referral = next(r for r in replies if r.kind == Kind.REFERRAL)
    assert not any(r.kind == Kind.OFFER for r in replies)
    [code] = CODE.findall(referral.text)

    own = await chat.say("ana", f"my code is {code}")
    assert [r.kind for r in own] == [Kind.NOTICE] and "own code" in own[0].text

    await chat.say("ben", "how much is shipping")  # an existing customer with a need on record
    existing = await chat.say("ben", code)
    assert [r.kind for r in existing] == [Kind.NOTICE] and code in existing[0].text
    assert "new customers" in existing[0].text

    bogus = await chat.say("dee", "REF-ZZZZZZ")
    assert [r.kind for r in bogus] == [Kind.NOTICE] and "doesn't match" in bogus[0].text

    linked = await chat.say("cai", f"hi, my friend gave me {code.lower()}")
    assert [r.kind for r in linked] == [Kind.NOTICE] and code in linked[0].text
    again = await chat.say("cai", code)
    assert [r.kind for r in again] == [Kind.NOTICE] and "already" in again[0].text

    async with unit_of_work() as uow:
        ana = await uow.customers.by_key("console:ana")
        ben = await uow.customers.by_key("console:ben")
        cai = await uow.customers.by_key("console:cai")
        assert ana is not None and ben is not None and cai is not None
        assert cai.referred_by_id == ana.id
        assert ben.referred_by_id is None and ana.referred_by_id is None
        figures = await stats.compute(uow, "all", chat.clock.now, 4)
    assert figures["referrals_given"] == 1
    assert figures["referrals_redeemed"] == 1
    assert figures["offers_to_unsatisfied"] == 0


async def test_referral_after_the_products_for_their_needs_are_exhausted(chat: ChatDriver) -> None:
    battery = "My battery only lasts about 15 km now, it used to do 60"
    first = await serve_and_rate_five(chat, "eve", battery)
    await chat.press("eve", chat.button(first, "offer:"))  # accepted
    await chat.advance(timedelta(days=1))
    second = await serve_and_rate_five(chat, "eve", battery)
    assert [r.kind for r in first][-1] == Kind.OFFER and [r.kind for r in second][-1] == Kind.OFFER
    assert first[-1].text != second[-1].text, "a different product the second time"
    await chat.advance(timedelta(days=31))
    third = await serve_and_rate_five(chat, "eve", battery)
    assert [r.kind for r in third][-1] == Kind.REFERRAL
    assert CODE.search(third[-1].text)
    await chat.advance(timedelta(days=31))
    fourth = await serve_and_rate_five(chat, "eve", battery)
    assert not any(r.kind in (Kind.OFFER, Kind.REFERRAL) for r in fourth), "one personal code per customer"
