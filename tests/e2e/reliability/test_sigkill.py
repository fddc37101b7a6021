"""SIGKILL the bot at random moments of a 1,000-message load: nothing lost, every reply sent exactly once.

Each kill can land anywhere: before an event is stored (Slack gets no 200 and delivers it again),
after it is stored but before its turn (the restarted bot replays it from the inbox), after the turn's
commit but before its replies went out (the outbox sweep sends them), or after Slack accepted a reply
but before it was marked sent (the sweep finds it in the channel's history and sends nothing).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from tests.e2e.reliability.harness import (
    Bot,
    assert_exactly_once,
    database_counts,
    drive,
    prepare_load,
    scripts,
)
from tests.fakes.slack_api import FakeSlack
from tests.support.databases import fresh_postgres_database, skip_without_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

KILLS = 4


async def test_sigkill_at_random_points_loses_nothing_and_sends_each_reply_once(
    fake: FakeSlack, tmp_path: Path, model_cache: Path
) -> None:
    await skip_without_postgres()
    plays = scripts()
    async with fresh_postgres_database() as url:
        config, port, expected = await prepare_load(tmp_path, url, fake, model_cache, plays)
        bot = await asyncio.to_thread(Bot, config, port)
        rng = random.Random()
        moments: list[float] = []

        async def kill_at_random() -> None:
            for _ in range(KILLS):
                await asyncio.sleep(rng.uniform(0.5, 3.0))
                moments.append(time.monotonic())
                await asyncio.to_thread(bot.kill_and_restart)

        started = time.monotonic()
        try:
            load = await drive(fake, bot, plays, expected, kill_at_random)
            counts = await database_counts(url)
        finally:
            bot.stop()
            (tmp_path / "all-bot.log").write_text("\n".join(bot.logs))
    elapsed = time.monotonic() - started
    print(f"\n{load.events} events, {bot.restarts} SIGKILLs, {load.redeliveries} redeliveries, "
          f"{counts['outbound']} replies, {elapsed:.1f}s")
    assert bot.restarts == KILLS
    assert_exactly_once(fake, counts, expected)
