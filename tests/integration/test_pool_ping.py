"""PostgreSQL connections: a pooled connection the server dropped while idle is replaced, not used."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import database
from tests.support.databases import POSTGRES_ADMIN_URL, fresh_postgres_database, skip_without_postgres

pytestmark = pytest.mark.postgres


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("select pg_backend_pid()"))).scalar_one())


async def test_a_connection_killed_while_idle_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server ends an idle pooled connection; the next use gets a new one instead of an error."""
    await skip_without_postgres()
    async with fresh_postgres_database() as url:
        engine = database.create_engine(url)
        admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            first = await _backend_pid(engine)
            async with admin.connect() as connection:
                await connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": first})
            # As if the connection had sat idle longer than the ping threshold.
            monkeypatch.setattr(database, "PING_IDLE_AFTER_SECONDS", 0.0)
            second = await _backend_pid(engine)
            assert second != first
        finally:
            await engine.dispose()
            await admin.dispose()


async def test_a_connection_the_server_closed_is_replaced_without_a_ping() -> None:
    """A restart or a terminated backend closes the socket: the next checkout opens a new connection."""
    await skip_without_postgres()
    async with fresh_postgres_database() as url:
        engine = database.create_engine(url)
        admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            first = await _backend_pid(engine)
            async with admin.connect() as connection:
                await connection.execute(text("select pg_terminate_backend(:pid, 5000)"), {"pid": first})
            await asyncio.sleep(0.2)  # the driver reads the server's goodbye off the socket
            second = await _backend_pid(engine)
            assert second != first
        finally:
            await engine.dispose()
            await admin.dispose()


async def test_a_busy_connection_is_not_pinged(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection used a moment ago goes straight back to work: no ping round trips per turn."""
    await skip_without_postgres()
    async with fresh_postgres_database() as url:
        engine = database.create_engine(url)
        pings: list[object] = []
        try:
            await _backend_pid(engine)
            async with engine.connect() as connection:
                raw = (await connection.get_raw_connection()).dbapi_connection
            assert isinstance(raw, AsyncAdapt_asyncpg_connection)
            adapter = type(raw)
            original = adapter.ping

            def counted(self: object) -> None:
                pings.append(self)
                original(self)

            monkeypatch.setattr(adapter, "ping", counted)
            for _ in range(3):
                await _backend_pid(engine)
            assert pings == []
            monkeypatch.setattr(database, "PING_IDLE_AFTER_SECONDS", 0.0)
            await _backend_pid(engine)
            assert len(pings) == 1
        finally:
            await engine.dispose()
