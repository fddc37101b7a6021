"""A running bot's SQLite log is checkpointed by a thread of its own, never inside a turn's COMMIT."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, open_engine
from storage.wal_checkpoints import CHECKPOINT_EVERY_SECONDS

# More commits than SQLite's default of 1,000 log pages, so a commit would have checkpointed at least once.
ROWS = 1200


async def write_rows(engine: AsyncEngine) -> None:
    """Commit ROWS rows one transaction at a time, as turns do."""
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (body TEXT)"))
    for number in range(ROWS):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (:body)"), {"body": f"note {number}"})


def rows_in_database_file(database: Path, scratch: Path) -> int:
    """Count the rows a copy of the database file holds without its write-ahead log."""
    copy = scratch / "copy.db"
    shutil.copyfile(database, copy)
    with sqlite3.connect(copy) as connection:
        tables = connection.execute("SELECT count(*) FROM sqlite_master WHERE name = 'notes'").fetchone()[0]
        return int(connection.execute("SELECT count(*) FROM notes").fetchone()[0]) if tables else 0


async def test_committed_rows_reach_the_database_file_while_the_bot_runs(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    async with open_engine(f"sqlite+aiosqlite:///{database}") as engine:
        await write_rows(engine)
        deadline = asyncio.get_running_loop().time() + 3 * CHECKPOINT_EVERY_SECONDS
        while rows_in_database_file(database, tmp_path) < ROWS:
            assert asyncio.get_running_loop().time() < deadline, "the log was never checkpointed"
            await asyncio.sleep(0.1)


async def test_commits_leave_the_checkpoint_to_the_thread(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}", wal_checkpoints_in_background=True)
    try:
        await write_rows(engine)
        # No thread runs here, so nothing but a commit could have copied the rows into the file.
        assert rows_in_database_file(database, tmp_path) == 0
    finally:
        await engine.dispose()
