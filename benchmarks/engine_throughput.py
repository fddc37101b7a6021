"""Messages per second through the conversation engine in one process, next to bare inserts.

For SQLite and PostgreSQL: `Concierge.handle` called directly, one message after another, customers
playing the script mix of `engine_common.SCRIPTS` (questions, yes/no, ratings, thanks); and the same
number of bare inserts of one message row (one INSERT + COMMIT each, same engine and driver) as the
baseline, run in alternating blocks of `BLOCK` with the engine's messages so that the machine's speed,
which drifts on a shared machine, weighs on both sides alike; then the understanding component alone
on the same texts. Prints a Markdown table. On SQLite the bare inserts are also timed through
SQLAlchemy's stock aiosqlite adapter, the baseline before the engine's one-hop connections
(storage/sqlite_async.py).

    .venv/bin/python benchmarks/engine_throughput.py [--messages 1000] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from engine_common import (
    core_over,
    database,
    demo_services,
    load_average,
    messages,
    now,
    summary,
    timed,
)
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from handlers.turn import Services
from storage.database import SQLITE_PRAGMAS
from storage.models import Message


def stock_sqlite_engine(url: str) -> AsyncEngine:
    """SQLAlchemy's own aiosqlite adapter (three or four thread hops a statement), with the engine's PRAGMAs."""

    def tune(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    engine = create_async_engine(url, connect_args={"timeout": 30})
    event.listen(engine.sync_engine, "connect", tune)
    return engine


# Messages of the engine, then as many bare inserts, in turn: a block lasts well under a second.
BLOCK = 50


@asynccontextmanager
async def bare_inserter(url: str, *, stock: bool = False) -> AsyncIterator[Callable[[int], Awaitable[list[float]]]]:
    """Yield a function that makes `n` single-row message inserts, each its own transaction; their latencies."""
    from storage.database import open_engine

    # The same engine the bot runs on (WAL checkpoints in a thread); the stock one as SQLAlchemy ships it.
    async with AsyncExitStack() as stack:
        if stock:
            engine = stock_sqlite_engine(url)
            stack.push_async_callback(engine.dispose)
        else:
            engine = await stack.enter_async_context(open_engine(url))
        async with engine.connect() as connection:
            conversation_id = (await connection.execute(select(Message.conversation_id).limit(1))).scalar_one()
        row = {"conversation_id": conversation_id, "direction": "in", "kind": None, "buttons": None,
               "author": None, "text": "my battery won't charge"}

        async def insert_some(n: int) -> list[float]:
            latencies: list[float] = []
            for _ in range(n):
                before = time.perf_counter()
                async with engine.begin() as connection:
                    await connection.execute(insert(Message).values(**row, created_at=now()))
                latencies.append((time.perf_counter() - before) * 1000)
            return latencies

        yield insert_some


async def measure(backend: str, services: Services, count: int, folder: Path) -> list[str]:
    async with database(backend, folder) as url:
        async with core_over(url, services) as (core, _engine):
            await timed(core, messages(12, "warm")[:40])
            inbounds = messages(count // 4 + 1, "cust")[:count]
            latencies: list[float] = []
            base_latencies: list[float] = []
            seconds = cpu_seconds = 0.0
            async with bare_inserter(url) as insert_some:
                await insert_some(10)
                for start in range(0, count, BLOCK):
                    cpu_before = time.process_time()
                    block_seconds, block_latencies = await timed(core, inbounds[start:start + BLOCK])
                    cpu_seconds += time.process_time() - cpu_before
                    seconds += block_seconds
                    latencies += block_latencies
                    base_latencies += await insert_some(len(block_latencies))
        stock: list[float] | None = None
        if backend == "sqlite":
            async with bare_inserter(url, stock=True) as insert_some:
                stock = await insert_some(count)
    rate, base_rate = count / seconds, count / (sum(base_latencies) / 1000)
    cpu_ms = cpu_seconds * 1000 / count
    p50, p99 = summary(latencies)
    b50, b99 = summary(base_latencies)
    load = load_average()
    lines = [
        # CPU per message (this process, every thread) moves less with the machine's load than wall time.
        f"| engine, {backend} (CPU {cpu_ms:.1f} ms/msg) | {count} | {rate:.0f} | {rate / base_rate:.0%} | {p50:.1f} "
        f"| {p99:.1f} | {load} |",
        f"| bare insert, {backend} | {count} | {base_rate:.0f} | 100% | {b50:.2f} | {b99:.2f} | {load} |",
    ]
    if stock is not None:
        # The engine's one-hop aiosqlite connections make the baseline cheaper too; the old baseline, for comparison.
        stock_rate = count / (sum(stock) / 1000)
        s50, s99 = summary(stock)
        lines.append(f"| bare insert, {backend}, SQLAlchemy's aiosqlite adapter (engine = {rate / stock_rate:.0%}) "
                     f"| {count} | {stock_rate:.0f} | – | {s50:.2f} | {s99:.2f} | {load} |")
    return lines


def understanding_alone(services: Services, count: int) -> str:
    texts = [inbound.text for inbound in messages(count // 4 + 1, "u")[:count]]
    latencies: list[float] = []
    for words in texts:
        before = time.perf_counter()
        services.understander.understand(words)
        latencies.append((time.perf_counter() - before) * 1000)
    p50, p99 = summary(latencies)
    rate = len(latencies) / (sum(latencies) / 1000)
    return f"| understanding alone | {count} | {rate:.0f} | – | {p50:.2f} | {p99:.2f} | {load_average()} |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    services = demo_services()
    print(f"load average at start: {load_average()}")
    print("| run | messages | messages/s | vs bare insert | p50 ms | p99 ms | load average |")
    print("|---|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends:
            for line in await measure(backend, services, args.messages, Path(folder)):
                print(line, flush=True)
    print(understanding_alone(services, args.messages))


if __name__ == "__main__":
    asyncio.run(main())
