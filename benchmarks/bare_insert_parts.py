"""Where a bare insert's time goes: the engine_throughput baseline next to the same row through bare sqlite3.

The baseline of `engine_throughput.py` is one message row inserted and committed through the bot's own
async engine (SQLAlchemy Core, the one-hop SQLite connections). Here the same number of the same rows
go through it, then through Python's `sqlite3` alone with the engine's PRAGMAs (foreign keys, WAL,
`synchronous=NORMAL`, its page cache, no checkpoints in commits), each its own BEGIN … COMMIT. The gap
between the two is the Python above SQLite, which is what the engine's ratio to the baseline compares
turns with.

    .venv/bin/python benchmarks/bare_insert_parts.py [--inserts 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine_common import core_over, database, demo_services, load_average, messages, timed
from engine_throughput import bare_inserter
from sqlalchemy.engine import make_url

from storage.database import NO_CHECKPOINTS_IN_COMMITS, SQLITE_PRAGMAS

_ROW_SQL = ("INSERT INTO messages (conversation_id, direction, kind, buttons, author, text, created_at) "
            "VALUES (?, 'in', NULL, NULL, NULL, 'my battery won''t charge', ?)")


def cpu_split() -> tuple[float, float]:
    """User and system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def row_line(name: str, count: int, wall: float, before: tuple[float, float], after: tuple[float, float]) -> str:
    user, system = (after[0] - before[0]) * 1e6 / count, (after[1] - before[1]) * 1e6 / count
    return f"| {name} | {count} | {wall * 1e6 / count:.1f} | {user:.1f} | {system:.1f} | {load_average()} |"


def sqlite_alone(path: str, count: int) -> Callable[[], str]:
    """Return a run of `count` inserts of the message row through bare sqlite3, each its own transaction."""

    def run() -> str:
        connection = sqlite3.connect(path, isolation_level=None)
        for pragma in (*SQLITE_PRAGMAS, NO_CHECKPOINTS_IN_COMMITS):
            connection.execute(f"PRAGMA {pragma}")
        conversation_id = connection.execute("SELECT conversation_id FROM messages LIMIT 1").fetchone()[0]
        before, started = cpu_split(), time.perf_counter()
        for _ in range(count):
            connection.execute("BEGIN")
            connection.execute(_ROW_SQL, (conversation_id, "2026-11-23 12:00:00.000000"))
            connection.execute("COMMIT")
        wall, after = time.perf_counter() - started, cpu_split()
        connection.close()
        return row_line("sqlite3 alone", count, wall, before, after)

    return run


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inserts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| path | inserts | wall µs each | user CPU µs | system CPU µs | load average |")
    print("|---|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        async with database("sqlite", Path(folder)) as url:
            async with core_over(url, demo_services()) as (core, _engine):
                await timed(core, messages(4, "seed"))  # a conversation for the rows to belong to
            alone = sqlite_alone(str(make_url(url).database), args.inserts)
            async with bare_inserter(url) as insert_some:
                await insert_some(100)
                for _ in range(args.rounds):
                    before, started = cpu_split(), time.perf_counter()
                    await insert_some(args.inserts)
                    wall = time.perf_counter() - started
                    print(row_line("baseline: bot's async engine", args.inserts, wall, before, cpu_split()))
                    print(alone(), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
