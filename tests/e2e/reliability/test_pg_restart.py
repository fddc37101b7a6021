"""Restart PostgreSQL in the middle of a 1,000-message load: nothing lost, every reply sent exactly once.

While the database is down the bot answers Slack 500 for events it cannot store (Slack delivers them
again), tells each waiting customer once that the answer will be late, and catches up when the
database is back: pooled connections are pre-pinged, stored events replayed, unsent replies swept.

This restarts the shared test server (`pg_ctlcluster … restart`, fast mode, about a second), so it
runs only as root on a machine with exactly one local cluster and skips elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import load_config
from handlers.replies import Templates
from tests.e2e.reliability.harness import (
    Bot,
    assert_exactly_once,
    database_counts,
    drive,
    prepare_load,
    scripts,
)
from tests.fakes.slack_api import FakeSlack
from tests.support.databases import POSTGRES_ADMIN_URL, skip_without_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

RESTARTS = 2
CLUSTERS = Path("/etc/postgresql")


def restart_command() -> list[str] | None:
    """The command that restarts the local cluster, or None when this machine cannot."""
    tool = shutil.which("pg_ctlcluster")
    local = "@127.0.0.1" in POSTGRES_ADMIN_URL or "@localhost" in POSTGRES_ADMIN_URL
    versions = sorted(p.name for p in CLUSTERS.iterdir()) if CLUSTERS.is_dir() else []
    if tool is None or os.geteuid() != 0 or not local or len(versions) != 1:
        return None
    return [tool, "--skip-systemctl-redirect", versions[0], "main", "restart", "-m", "fast"]


async def wait_for_postgres(within: float = 30.0) -> float:
    """Block until the server answers again; return how long that took."""
    started = time.monotonic()
    while True:
        engine = create_async_engine(POSTGRES_ADMIN_URL)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("select 1"))
            return time.monotonic() - started
        except Exception:
            if time.monotonic() - started > within:
                raise
            await asyncio.sleep(0.1)
        finally:
            await engine.dispose()


async def _admin(statement: str) -> None:
    # A fresh engine each time: a pooled admin connection would not survive the restarts.
    engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """An empty database for this test, dropped afterwards; yield its URL."""
    name = f"concierge_test_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await wait_for_postgres()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_postgres_restart_mid_load_loses_nothing_and_sends_each_reply_once(
    fake: FakeSlack, tmp_path: Path, model_cache: Path
) -> None:
    await skip_without_postgres()
    command = restart_command()
    if command is None:
        pytest.skip("restarting PostgreSQL needs root, pg_ctlcluster and exactly one local cluster")
    plays = scripts(seed=12)
    async with scratch_database() as url:
        config, port, expected = await prepare_load(tmp_path, url, fake, model_cache, plays)
        sorry = Templates(load_config(config, environ={}).templates.override_dir).render("unavailable")
        bot = await asyncio.to_thread(Bot, config, port)
        rng = random.Random()
        outages: list[float] = []

        async def restart_postgres() -> None:
            for _ in range(RESTARTS):
                await asyncio.sleep(rng.uniform(1.0, 4.0))
                await asyncio.to_thread(subprocess.run, command, check=True, capture_output=True, timeout=60)
                outages.append(await wait_for_postgres())

        started = time.monotonic()
        try:
            load = await drive(fake, bot, plays, expected, restart_postgres)
            survived = bot.process.process.poll() is None
            counts = await database_counts(url)
        finally:
            bot.stop()
            (tmp_path / "all-bot.log").write_text("\n".join(bot.logs))
    elapsed = time.monotonic() - started
    print(f"\n{load.events} events, {len(outages)} PostgreSQL restarts, {load.redeliveries} redeliveries, "
          f"{len(load.refused)} customers refused meanwhile, {counts['outbound']} replies, {elapsed:.1f}s")
    assert len(outages) == RESTARTS
    assert survived, "the bot rides out the restarts on its own (pre-pinged pool, retries), without a restart"
    assert_exactly_once(fake, counts, expected)
    apologised = {str(c.response.get("channel")) for c in fake.of("chat.postMessage") if c.params.get("text") == sorry}
    assert {f"D{user[1:]}" for user in load.refused} <= apologised, "everyone refused was told the answer will come"
