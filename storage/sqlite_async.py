"""aiosqlite connections that run statements on the event loop, and in aiosqlite's thread only when they must wait.

SQLAlchemy's aiosqlite adapter opens a cursor, executes, fetches and closes it, each a round trip to
aiosqlite's worker thread (a queue put, a thread switch and a wake-up of the event loop). Measured,
those hops were most of a conversation turn on SQLite, and even one hop a statement cost a fifth of
a turn's CPU. A statement of a turn takes microseconds once SQLite has its lock, so here it runs
right on the event loop with SQLite's busy timeout at zero: when the database is locked by another
connection, SQLite answers "busy" at once instead of waiting, and the statement runs again in the
worker thread with the full timeout, so a locked database never stalls the event loop. Statements
known to be long (the manager's figures over a large store) go to the worker thread from the start
(`in_worker_thread`). The sqlite3 connection is used by one thread at a time: the awaiting coroutine
does not touch it while the worker thread has it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

import aiosqlite
from sqlalchemy.engine import URL

_Outcome = tuple[Any, int, int | None, list[Any]]
# Seconds of statements a connection runs on the event loop before it lets other work in.
_HOLD_LOOP_AT_MOST = 0.002
# Set while statements are expected to run long, so they wait in the worker thread, not on the event loop.
_offloaded: ContextVar[bool] = ContextVar("sqlite_statements_offloaded", default=False)


@contextmanager
def in_worker_thread() -> Iterator[None]:
    """Run this block's SQLite statements in the connection's worker thread (long reads)."""
    token = _offloaded.set(True)
    try:
        yield
    finally:
        _offloaded.reset(token)


def connector_for(url: URL, connect_args: dict[str, Any]) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """Return an `async_creator` for SQLAlchemy that opens one-hop connections to the URL's database."""
    from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

    (database,), options = SQLiteDialect_aiosqlite().create_connect_args(url)
    # The worker thread opens the connection and the event loop's thread uses it too (never both at once).
    options = {**options, **connect_args, "check_same_thread": False}
    patience_ms = round(float(options.get("timeout", 5.0)) * 1000)

    async def connect() -> aiosqlite.Connection:
        connection = OneHopConnection(lambda: _impatient(sqlite3.connect(database, **options)), 64, patience_ms)
        connection._thread.daemon = True  # as SQLAlchemy does: a forgotten connection never blocks exit
        return await connection

    return connect


class OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs calls on the event loop, and in its thread when SQLite is busy."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int, patience_ms: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._patience_ms = patience_ms
        self._yielded_at = 0.0

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn` on the connection now; if SQLite is locked by another connection, wait for it in the thread."""
        if _offloaded.get():
            return await self._patiently(fn, *args, **kwargs)
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        try:
            outcome = fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        else:
            # Let the loop's other work in (a Slack ack, another turn's statement) once this connection
            # has held the loop for a while, as the thread hop used to: otherwise a turn would hold it
            # from its first statement to its last. A yield after every statement cost 4-6% of a turn's
            # CPU (alternating blocks in one process); after 2 ms a Slack ack still waits very little.
            if time.perf_counter() - self._yielded_at >= _HOLD_LOOP_AT_MOST:
                await asyncio.sleep(0)
                self._yielded_at = time.perf_counter()
            return outcome
        # A statement that met a lock changed nothing; it runs again where waiting for the lock is harmless.
        return await self._patiently(fn, *args, **kwargs)

    async def _patiently(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn` in the worker thread, with SQLite waiting up to the connection's timeout for a lock."""
        return await super()._execute(_waiting, self._conn, self._patience_ms, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    def cursor(self) -> Any:  # SQLAlchemy awaits `__aenter__` on what this returns
        """Return a cursor that executes and fetches in one call to the connection."""
        return OneHopCursor(self)


class OneHopCursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses, with each statement one call (execute and fetch)."""

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
        """Execute one statement and keep all its rows, in one call to the connection."""
        outcome: _Outcome = await self._connection._execute(
            _run, self._connection._conn, sql, parameters or ()
        )
        self._take(outcome)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneHopCursor:
        """Execute one statement once per parameter set, in one call to the connection."""
        outcome: _Outcome = await self._connection._execute(
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
        """Forget the kept rows (the sqlite3 cursor was closed already)."""
        self._rows = []

    def _take(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, self._rows = outcome


def _impatient(connection: sqlite3.Connection) -> sqlite3.Connection:
    """Make SQLite answer "busy" at once when locked, instead of waiting on the event loop's thread."""
    connection.execute("PRAGMA busy_timeout = 0")
    return connection


def _waiting(connection: sqlite3.Connection, patience_ms: int, fn: Callable[..., Any], *args: Any,
             **kwargs: Any) -> Any:
    connection.execute(f"PRAGMA busy_timeout = {int(patience_ms)}")
    try:
        return fn(*args, **kwargs)
    finally:
        with suppress(sqlite3.ProgrammingError):  # `fn` may have closed the connection
            connection.execute("PRAGMA busy_timeout = 0")


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
