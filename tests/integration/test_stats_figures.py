"""Rule 10: the stats report, field by field, for a known set of conversations built through the chat."""

from __future__ import annotations

import re
from datetime import timedelta

from handlers import stats
from handlers.messages import Kind
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver

MANAGER = "manager"


async def build_history(chat: ChatDriver) -> str:
    """Six customers, six stories; return the referral code given to Eve."""
    # Ana: satisfied, rates 5, accepts the offer.
    await chat.say("ana", "My battery only lasts about 15 km now, it used to do 60")
    await chat.say("ana", "yes")
    rated = await chat.say("ana", "5")
    await chat.press("ana", chat.button(rated, "offer:"))
    # Ben: resolved but rates 1, then says what went wrong.
    await chat.say("ben", "where is my order")
    await chat.say("ben", "yes")
    await chat.say("ben", "1")
    await chat.say("ben", "the tracking link was dead")
    # Cai: out of scope.
    await chat.say("cai", "what's the weather on mars")
    # Dan: asks for a person.
    await chat.say("dan", "can I talk to a person")
    # Eve: resolved without a rating; says yes to the follow-up and is asked for a referral.
    await chat.say("eve", "where is my refund")
    await chat.say("eve", "yes")
    followups = await chat.advance(timedelta(days=4))
    assert sorted(r.to for r in followups) == ["ana", "ben", "eve"]
    answered = await chat.press("eve", chat.button([r for r in followups if r.to == "eve"], "followup:"))
    referral = next(r for r in answered if r.kind == Kind.REFERRAL)
    code = re.search(r"REF-[A-Z0-9]{6}", referral.text)
    assert code is not None
    # Fay: a new customer who brings Eve's code.
    await chat.say("fay", code.group(0))
    return code.group(0)


async def _every_stats_field_for_a_known_history(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    await build_history(chat)
    async with unit_of_work() as uow:
        figures = await stats.compute(uow, "all", chat.clock.now, 4)
    expected = {
        "period": "all",
        "conversations": 6,
        "customers": 6,
        "resolved_by_bot": 3,
        "handed_off": 1,
        "unmet_needs": 1,
        "csat_responses": 2,
        "csat_average": 3.0,
        "satisfied_rate": 0.5,
        "followups_sent": 3,
        "followups_positive": 1,
        "offers_made": 1,
        "offers_accepted": 1,
        "offer_conversion": 1.0,
        "offers_to_unsatisfied": 0,
        "referrals_given": 1,
        "referrals_redeemed": 1,
        "top_needs": [
            {"need": "battery_range", "count": 1},
            {"need": "order_status", "count": 1},
            {"need": "out_of_scope", "count": 1},
            {"need": "refund_status", "count": 1},
        ],
        "handoff_wait_seconds_p50": None,
        "handoff_wait_seconds_p90": None,
        "per_agent": [],
        "csat_with_offer": 5.0,
        "csat_without_offer": 1.0,
        "repeat_customers": 0,
    }
    assert {key: figures.get(key) for key in expected} == expected

    replies = await chat.command(MANAGER, "stats", "all")
    assert [r.kind for r in replies] == [Kind.STATS]
    text = replies[0].text
    for fragment in ("6 conversations with 6 customers", "3 needs resolved by the bot", "1 handed to a person",
                     "1 unmet", "2 ratings, average 3.0", "50% satisfied", "follow-ups 3 sent, 1 positive",
                     "1 offers, 1 accepted (100%)", "0 made against the rules", "1 given, 1 redeemed",
                     "battery_range (1)"):
        assert fragment in text, (fragment, text)


async def test_recent_period_leaves_out_older_conversations(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    await chat.say("old", "where is my order")
    await chat.advance(timedelta(days=10))
    await chat.say("new", "what's the weather on mars")
    async with unit_of_work() as uow:
        week = await stats.compute(uow, "7d", chat.clock.now, 4)
        everything = await stats.compute(uow, "all", chat.clock.now, 4)
    assert (week["conversations"], week["customers"], week["unmet_needs"]) == (1, 1, 1)
    assert week["top_needs"] == [{"need": "out_of_scope", "count": 1}]
    assert (everything["conversations"], everything["customers"]) == (2, 2)
    assert everything["csat_average"] is None and everything["offer_conversion"] is None


async def _stats_are_for_managers_only(chat: ChatDriver) -> None:
    for user in ("ana", "agent"):
        replies = await chat.command(user, "stats", "all")
        assert [r.kind for r in replies] == [Kind.NOTICE]
        assert "conversations" not in replies[0].text
    bad_period = await chat.command(MANAGER, "stats", "yesterday")
    assert [r.kind for r in bad_period] == [Kind.NOTICE]


async def test_stats_for_a_known_history(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Every figure for a known history; only managers see them."""
    await _every_stats_field_for_a_known_history(chat, unit_of_work)
    await _stats_are_for_managers_only(chat)
