"""Checkpoint a SQLite database's write-ahead log from a thread of its own.

By default SQLite checkpoints inside whichever COMMIT pushes the log past 1,000 pages: about one turn
in a hundred then spends 10-20 ms copying pages and syncing the file. Statements run on the event
loop (storage.sqlite_async), so that pause held up every conversation of the process, and was most
of the engine's p99. Engines opened with `wal_checkpoints_in_background` never checkpoint in a
commit; this thread does it every `interval` seconds instead, in PASSIVE mode, which never blocks
readers or writers (it copies what it can and leaves the rest for the next round).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from types import TracebackType

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_SECONDS = 1.0


def database_file(url: str) -> str | None:
    """Return the file of a SQLite URL, or None for PostgreSQL and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return parsed.database


class WalCheckpointer:
    """A daemon thread that moves the log's committed pages into the database file, until closed."""

    def __init__(self, path: str, interval: float = CHECKPOINT_EVERY_SECONDS) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoints", daemon=True)

    def __enter__(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _error: BaseException | None, _trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        """Checkpoint every interval; a failed round is logged and the next one tries again."""
        try:
            connection = sqlite3.connect(self._path, timeout=0)
        except sqlite3.Error as error:
            log.warning("WAL checkpoints stay in commits: cannot open the database: %s", error)
            return
        try:
            while not self._stop.wait(self._interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:
                    log.warning("WAL checkpoint failed (will retry): %s", error)
        finally:
            # The last connection to close checkpoints whatever is left and removes the log.
            connection.close()
