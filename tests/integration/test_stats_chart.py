"""The stats chart, the chat `stats` reply with it, the CLI's --chart/--csv, and the newer figures."""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from bot.cli import main
from handlers import stats
from handlers.messages import Kind
from handlers.stats_chart import render_chart
from storage.models import Handoff
from storage.stats_queries import DailyPoint
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_RATING = 4


def assert_real_png(content: bytes) -> None:
    """Check a PNG's signature and size, and that it decodes to an image that is not blank white."""
    assert content.startswith(PNG_SIGNATURE)
    assert len(content) > 5_000
    pixels = imread(io.BytesIO(content), format="png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert np.any(pixels[:, :, :3] < 0.9)


@pytest.mark.parametrize("daily", [
    [],
    [DailyPoint(date(2026, 11, 1), 1, 5.0, 1, 1)],
    [DailyPoint(date(2026, 11, day), 3, 3.0 + day / 20, 4, day % 4) for day in range(1, 31)],
], ids=["empty", "one-day", "month"])
def test_chart_is_a_valid_png(daily: list[DailyPoint]) -> None:
    assert_real_png(render_chart(daily))


async def rate(chat: ChatDriver, user: str, score: str) -> None:
    """Have a customer ask about the battery, confirm it is solved, and give a rating."""
    await chat.say(user, "My battery only lasts about 15 km now, it used to do 60")
    await chat.press_label(user, 1)  # yes, solved
    await chat.say(user, score)


async def figures(unit_of_work: UnitOfWorkFactory, since: datetime | None = None) -> dict[str, object]:
    async with unit_of_work() as uow:
        return await stats.compute_between(uow, "test", since, None, MIN_RATING)


async def test_manager_gets_the_chart_with_the_stats(chat: ChatDriver) -> None:
    await rate(chat, "ana", "5")
    replies = await chat.command("manager", "stats", "30d")
    assert [r.kind for r in replies] == [Kind.STATS]
    (attachment,) = replies[0].attachments
    assert (attachment.filename, attachment.mime_type) == ("concierge-stats.png", "image/png")
    assert_real_png(attachment.content)


async def test_manager_gets_a_no_data_chart_on_an_empty_database(chat: ChatDriver) -> None:
    (reply,) = await chat.command("manager", "stats")
    assert reply.kind == Kind.STATS
    assert_real_png(reply.attachments[0].content)


async def test_non_manager_is_refused_without_a_chart(chat: ChatDriver) -> None:
    await rate(chat, "ana", "5")
    for user in ("ana", "agent"):
        (reply,) = await chat.command(user, "stats")
        assert reply.kind == Kind.NOTICE
        assert reply.attachments == ()
        assert "Stats for" not in reply.text


async def test_new_figures_are_exact_on_a_scripted_set(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    await rate(chat, "ana", "5")
    await rate(chat, "ben", "2")
    await chat.advance(timedelta(days=2))
    await rate(chat, "ben", "3")
    assert Kind.OFFER in chat.kinds("ana")
    assert Kind.OFFER not in chat.kinds("ben")
    start = chat.clock.now - timedelta(days=1)
    await add_handoffs(unit_of_work, start, [("console:agent", 60), ("console:agent", 120), ("console:zoe", 30),
                                             (None, None)])

    result = await figures(unit_of_work)
    assert result["csat_responses"] == 3
    assert result["csat_with_offer"] == 5.0
    assert result["csat_without_offer"] == 2.5
    assert result["repeat_customers"] == 1
    assert result["customers"] == 2
    assert result["per_agent"] == [{"agent": "console:agent", "handled": 2}, {"agent": "console:zoe", "handled": 1}]
    assert result["handoff_wait_seconds_p50"] == 60.0
    assert result["handoff_wait_seconds_p90"] == 120.0

    recent = await figures(unit_of_work, since=chat.clock.now - timedelta(days=1))
    assert recent["repeat_customers"] == 0
    assert recent["csat_responses"] == 1
    assert recent["csat_with_offer"] is None
    assert recent["csat_without_offer"] == 3.0

    async with unit_of_work() as uow:
        daily = await stats.daily(uow, None, None, MIN_RATING)
    assert [(p.ratings, p.csat_average, p.offers) for p in daily] == [(2, 3.5, 1), (1, 3.0, 0)]
    assert daily[1].day - daily[0].day == timedelta(days=2)


async def add_handoffs(unit_of_work: UnitOfWorkFactory, start: datetime,
                       handled: list[tuple[str | None, int | None]]) -> None:
    """Store handoffs of the first conversation, each taken by an agent after a number of seconds."""
    async with unit_of_work() as uow:
        for agent, wait in handled:
            claimed = None if wait is None else start + timedelta(seconds=wait)
            await uow.handoffs.add(Handoff(
                conversation_id=1, customer_id=1, reason="asked", priority=0,
                status="queued" if agent is None else "claimed", agent_key=agent, created_at=start,
                claimed_at=claimed, first_reply_at=None, ended_at=None,
            ))
        await uow.commit()


async def run_cli(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                  capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `concierge stats` against the test database in a worker thread; return its exit code and stdout."""
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    code = await asyncio.to_thread(main, ["stats", *args])
    return code, capsys.readouterr().out



async def test_cli_writes_the_chart_and_prints_csv(
    chat: ChatDriver, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await rate(chat, "ana", "5")
    await rate(chat, "ben", "2")
    chart = tmp_path / "out" / "stats.png"
    chart.parent.mkdir()
    first = chat.clock.now.date().isoformat()
    code, out = await run_cli(database_url, monkeypatch, tmp_path, capsys,
                              "--from", first, "--to", first, "--csv", "--chart", str(chart))
    assert code == 0
    assert_real_png(chart.read_bytes())
    rows = dict(line.split(",", 1) for line in out.strip().splitlines())
    assert rows.pop("field") == "value"
    assert rows["period"] == f"{first}..{first}"
    assert rows["csat_responses"] == "2"
    assert rows["csat_with_offer"] == "5.0"
    assert rows["csat_without_offer"] == "2.0"
    assert rows["repeat_customers"] == "0"
    assert rows["per_agent"] == ""
    assert rows["handoff_wait_seconds_p90"] == ""
    for field in ("conversations", "customers", "offers_made", "offer_conversion", "handoff_wait_seconds_p50"):
        assert field in rows
    assert any(key.startswith("top_needs.") for key in rows)


async def test_cli_date_range_outside_the_data_is_empty(
    chat: ChatDriver, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await rate(chat, "ana", "5")
    before = (chat.clock.now - timedelta(days=3)).date().isoformat()
    code, out = await run_cli(database_url, monkeypatch, tmp_path, capsys, "--from", before, "--to", before,
                              "--json", "--chart", str(tmp_path / "empty.png"))
    assert code == 0
    assert '"conversations": 0' in out
    assert_real_png((tmp_path / "empty.png").read_bytes())
