"""aiosqlite connections whose statements cost one hop to the database thread instead of three or four.

SQLAlchemy's aiosqlite adapter opens a cursor, executes, fetches and closes it, each a round trip to
aiosqlite's worker thread (a queue put, a thread switch and a wake-up of the event loop). Measured,
those hops were most of a conversation turn on SQLite. Here `execute` runs all four steps in one
call on the worker thread and keeps the rows; the rest of the cursor answers from them. The sqlite3
cursor never leaves the worker thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.engine import URL

_Outcome = tuple[Any, int, int | None, list[Any]]


def connector_for(url: URL, connect_args: dict[str, Any]) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """Return an `async_creator` for SQLAlchemy that opens one-hop connections to the URL's database."""
    from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

    (database,), options = SQLiteDialect_aiosqlite().create_connect_args(url)
    options = {**options, **connect_args}

    async def connect() -> aiosqlite.Connection:
        connection = OneHopConnection(lambda: sqlite3.connect(database, **options), 64)
        connection._thread.daemon = True  # as SQLAlchemy does: a forgotten connection never blocks exit
        return await connection

    return connect


class OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors execute and fetch in one trip to the worker thread."""

    def cursor(self) -> Any:  # SQLAlchemy awaits `__aenter__` on what this returns
        """Return a cursor that touches the worker thread only when executing."""
        return OneHopCursor(self)


class OneHopCursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses, with each statement a single hop."""

    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._each()

    async def _each(self) -> AsyncIterator[Any]:
        while self._rows:
            yield self._rows.pop(0)

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneHopCursor:
        """Execute one statement and keep all its rows (on the worker thread, in one call)."""
        outcome: _Outcome = await self._connection._execute(  # type: ignore[no-untyped-call]
            _run, self._connection._conn, sql, parameters or ()
        )
        self._take(outcome)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneHopCursor:
        """Execute one statement once per parameter set (one call on the worker thread)."""
        outcome: _Outcome = await self._connection._execute(  # type: ignore[no-untyped-call]
            _run_many, self._connection._conn, sql, parameters
        )
        self._take(outcome)
        return self

    async def fetchone(self) -> Any:
        """Return the next kept row, or None."""
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        """Return up to `size` kept rows."""
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> Sequence[Any]:
        """Return every kept row."""
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        """Forget the kept rows (the sqlite3 cursor was closed on the worker thread already)."""
        self._rows = []

    def _take(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, self._rows = outcome


def _run(connection: sqlite3.Connection, sql: str, parameters: Any) -> _Outcome:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, sql: str, parameters: Any) -> _Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()
