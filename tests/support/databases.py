"""Real databases for tests: a fresh SQLite file, or a fresh PostgreSQL database on 127.0.0.1:5432."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

POSTGRES_ADMIN_URL = os.environ.get("CONCIERGE_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("CONCIERGE_REQUIRE_POSTGRES") == "1"


_available: dict[str, bool] = {}


async def postgres_available() -> bool:
    """Tell whether the test PostgreSQL server answers (asked once per run)."""
    if POSTGRES_ADMIN_URL not in _available:
        engine = create_async_engine(POSTGRES_ADMIN_URL)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("select 1"))
            _available[POSTGRES_ADMIN_URL] = True
        except Exception:
            _available[POSTGRES_ADMIN_URL] = False
        finally:
            await engine.dispose()
    return _available[POSTGRES_ADMIN_URL]


async def skip_without_postgres() -> None:
    """Skip the test when PostgreSQL is absent, unless CI made it required."""
    if await postgres_available():
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required (CONCIERGE_REQUIRE_POSTGRES=1) but {POSTGRES_ADMIN_URL} does not answer")
    pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN_URL} (set CONCIERGE_TEST_POSTGRES to point at one)")


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """Create an empty database for one test and drop it afterwards; yield its URL."""
    name = f"concierge_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
