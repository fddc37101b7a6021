"""`forget` keeps the audit log but leaves none of its entries naming the erased customer."""

from __future__ import annotations

from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver


async def test_a_forgotten_customers_refused_attempts_stay_logged_without_naming_them(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.command("ana", "stats")
    await chat.command("ben", "stats")
    await chat.command("manager", "stats", "7d")
    await chat.say("ana", "please delete my data")
    await chat.press("ana", chat.button(chat.transcript, "forget:"))
    async with unit_of_work() as uow:
        assert await uow.customers.by_key("console:ana") is None
        entries = [(e.actor_key, e.action) for e in reversed(await uow.audit.latest())]
    assert [action for _, action in entries] == ["stats_refused", "stats_refused", "stats"], "an entry was erased"
    assert "console:ana" not in [actor for actor, _ in entries]
    assert entries[0][0].startswith("erased:")
    assert ("console:ben", "stats_refused") in entries, "another customer's entries are untouched"
    assert ("console:manager", "stats") in entries
