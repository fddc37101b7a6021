"""SQLite locked by another process: a turn waits for the lock without freezing the rest of the bot."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from handlers.app import Concierge
from handlers.messages import Inbound, Kind
from handlers.turn import Services
from storage.database import create_engine, session_factory, upgrade
from storage.unit_of_work import SqlUnitOfWork, UnitOfWork
from tests.support.driver import StepClock


async def test_a_turn_waits_for_a_lock_held_elsewhere_while_the_event_loop_keeps_running(
    tmp_path: Path, demo_services: Services
) -> None:
    """Another process writing holds the database: the turn answers once it lets go, and nothing stalls meanwhile."""
    path = tmp_path / "concierge.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    sessions = session_factory(engine)

    def unit_of_work() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    core = Concierge(unit_of_work, demo_services, StepClock())
    other_process = sqlite3.connect(path, isolation_level=None)
    try:
        other_process.execute("BEGIN IMMEDIATE")  # the write lock, as another process's transaction holds it
        turn = asyncio.create_task(core.handle(Inbound("console", "ana", text="my battery won't charge")))
        longest_pause = 0.0
        for _ in range(20):
            before = time.monotonic()
            await asyncio.sleep(0.01)
            longest_pause = max(longest_pause, time.monotonic() - before)
        assert not turn.done()
        assert longest_pause < 1.0  # the event loop kept serving other work while the turn waited
        other_process.execute("ROLLBACK")
        replies = await asyncio.wait_for(turn, timeout=10)
    finally:
        other_process.close()
        await engine.dispose()
    assert [reply.kind for reply in replies] == [Kind.ANSWER, Kind.RESOLUTION_CHECK]
