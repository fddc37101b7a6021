"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.sqlite_async import connector_for

MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create an async engine; SQLite gets foreign keys, WAL and a busy timeout, every engine pre-ping."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # One trip to aiosqlite's thread per statement instead of three or four (see storage.sqlite_async).
        creator = connector_for(parsed, {"timeout": 30}) if parsed.get_driver_name() == "aiosqlite" else None
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, async_creator=creator)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory the unit of work uses."""
    return async_sessionmaker(engine, expire_on_commit=False)


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


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MB page cache instead of SQLite's 2 MB default, so indexed lookups stay in memory on large stores.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
