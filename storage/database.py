"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.rows import RowWritingSession
from storage.sqlite_async import connector_for
from storage.wal_checkpoints import WalCheckpointer, database_file

MIGRATIONS = Path(__file__).parent / "migrations"
# A pooled connection idle longer than this is pinged before use (see `_ping_if_idle`).
PING_IDLE_AFTER_SECONDS = 10.0
_CHECKED_IN = "concierge_checked_in_at"
# Every SQLite connection's settings. The 64 MB page cache (SQLite's default is 2 MB) keeps indexed
# lookups in memory on large stores.
SQLITE_PRAGMAS = ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536")
# With checkpoints in a thread of their own (`WalCheckpointer`), never in a COMMIT.
NO_CHECKPOINTS_IN_COMMITS = "wal_autocheckpoint=0"


def create_engine(url: str, *, echo: bool = False, wal_checkpoints_in_background: bool = False) -> AsyncEngine:
    """Create an async engine; SQLite gets foreign keys, WAL and a busy timeout; PostgreSQL pings idle connections.

    With `wal_checkpoints_in_background`, SQLite connections never checkpoint in a COMMIT: run a
    `WalCheckpointer` beside the engine (`open_engine` does both).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Statements run on the event loop, and wait in aiosqlite's thread only when locked (storage.sqlite_async).
        creator = connector_for(parsed, {"timeout": 30}) if parsed.get_driver_name() == "aiosqlite" else None
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, async_creator=creator)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        if wal_checkpoints_in_background:
            event.listen(engine.sync_engine, "connect", _leave_checkpoints_to_background)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=10)
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    event.listen(engine.sync_engine, "checkin", _note_checkin)
    return engine


@asynccontextmanager
async def open_engine(url: str, *, echo: bool = False) -> AsyncIterator[AsyncEngine]:
    """Open an engine for a running bot, disposed at the end; a SQLite file's WAL is checkpointed in a thread."""
    path = database_file(url)
    engine = create_engine(url, echo=echo, wal_checkpoints_in_background=path is not None)
    with WalCheckpointer(path) if path is not None else nullcontext():
        try:
            yield engine
        finally:
            await engine.dispose()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory the unit of work uses."""
    # Its flushes write rows with plain statements (storage/rows.py), not the ORM's unit of work.
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=RowWritingSession)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` on the engine's database."""
    async with engine.begin() as connection:
        await connection.run_sync(_run_upgrade, revision)


def is_sqlite(engine: AsyncEngine) -> bool:
    """Tell whether the engine is the embedded SQLite store."""
    return engine.dialect.name == "sqlite"


def _run_upgrade(connection: Connection, revision: str) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Check a pooled connection before handing it out; a dead one is replaced.

    SQLAlchemy's `pool_pre_ping` checks every checkout, which on asyncpg is three round trips (BEGIN,
    an empty query, ROLLBACK) on every turn. Instead: a connection the server closed (a restart, a
    terminated backend) is known to the driver without asking, and only one idle for a while, which
    the network may have dropped silently, is pinged.
    """
    driver_connection = getattr(dbapi_connection, "_connection", None)  # asyncpg's, under SQLAlchemy's adapter
    is_closed = getattr(driver_connection, "is_closed", None)
    if callable(is_closed) and is_closed():
        raise DisconnectionError("the server closed this pooled connection")
    if time.monotonic() - record.info.get(_CHECKED_IN, 0.0) < PING_IDLE_AFTER_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:
        # The pool discards this connection and checks out (or opens) another, as pre-ping would.
        raise DisconnectionError("connection failed its ping after sitting idle") from error


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _leave_checkpoints_to_background(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA {NO_CHECKPOINTS_IN_COMMITS}")
    cursor.close()
