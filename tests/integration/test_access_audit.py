"""The audit log: privileged actions (stats, export, forget) and refused attempts are recorded, never erased."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from handlers import audit
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver


async def _entries(unit_of_work: UnitOfWorkFactory) -> list[tuple[str, str, dict[str, object]]]:
    async with unit_of_work() as uow:
        return [(e.actor_key, e.action, dict(e.detail)) for e in reversed(await uow.audit.latest())]


async def test_stats_in_chat_and_refusals_are_audited(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    await chat.command("manager", "stats", "30d")
    await chat.command("ana", "stats")
    await chat.command("agent", "stats", "all")
    assert await _entries(unit_of_work) == [
        ("console:manager", "stats", {"period": "30d"}),
        ("console:ana", "stats_refused", {}),
        ("console:agent", "stats_refused", {}),
    ]


async def test_cli_export_forget_and_stats_are_audited_and_survive_the_erasure(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory, database_url: str, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    await chat.say("ana", "where is my order")
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    for args in (["export", "--customer", "console:ana"], ["forget", "--customer", "console:ana"],
                 ["stats", "--json"]):
        assert await asyncio.to_thread(main, args) == 0, args
    capsys.readouterr()
    entries = await _entries(unit_of_work)
    assert [action for _, action, _ in entries] == ["export", "forget", "stats"]
    assert all(actor.startswith("cli:") for actor, _, _ in entries)
    assert entries[0][2] == entries[1][2] == {"customer_id": 1}
    assert "console:ana" not in repr(entries), "the log keeps no personal data of the erased customer"
    async with unit_of_work() as uow:
        assert await uow.customers.by_key("console:ana") is None


async def test_a_long_detail_is_cut(unit_of_work: UnitOfWorkFactory) -> None:
    await audit.record_alone(unit_of_work, "console:agent", "note", {"text": "x" * 5000, "ticket": 3})
    [(_, _, detail)] = await _entries(unit_of_work)
    assert detail == {"text": "x" * audit.MAX_DETAIL_TEXT, "ticket": 3}


async def test_desk_actions_are_audited_without_the_agents_words(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.say("ana", "can I talk to a person")
    ticket = chat.button(chat.transcript, "claim:").split(":")[1]
    await chat.command("agent", "claim", ticket)
    await chat.command("agent", "reply", ticket, "my", "private", "words")
    await chat.command("ana", "claim", ticket)
    entries = await _entries(unit_of_work)
    assert entries == [
        ("console:agent", "desk_claim", {"ticket": ticket}),
        ("console:agent", "desk_reply", {"ticket": ticket}),
        ("console:ana", "desk_claim_refused", {"ticket": ticket}),
    ]
    assert "private" not in repr(entries)
