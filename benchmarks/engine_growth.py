"""Cost growth: per-message cost of the engine with 1,000, 10,000, 100,000 (and 1,000,000) stored conversations.

One database grows step by step. Each stored conversation comes with its customer, four messages, a
resolved need, a rating, an answered follow-up, a declined offer, a processed event id, and every tenth
a closed handoff, all generated inside the database (negative ids, so they never collide with the rows
the measured turns create). At each size, after ANALYZE: new customers play the script mix, and
returning stored customers ask a new question; the per-message cost should stay flat.

    .venv/bin/python benchmarks/engine_growth.py [--sizes 1000 10000 100000] [--backends sqlite postgres]
        [--rounds 1] [--statements]

On a shared machine one size can read slower than another only because the machine was busier then.
`--rounds` measures each size that many times (new customers, then returning ones, in turn), so the
spread within a size shows; `--statements` follows each row with the returning turns' statements,
slowest first, and their time per turn in the database driver, so a statement that grows with the
stored data shows.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine_common import core_over, database, demo_services, load_average, messages, now, summary, timed
from sqlalchemy import Integer, String, Table, bindparam, cast, event, insert, literal, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.messages import Inbound
from handlers.turn import Services
from storage.database import create_engine
from storage.models import (
    Base,
    Conversation,
    Customer,
    FollowUp,
    Handoff,
    Message,
    Need,
    Offer,
    ProcessedEvent,
    Rating,
)

NEW_CUSTOMER_MESSAGES = 200
RETURNING_MESSAGES = 100


def at(model: type[Base], column: str, value: Any) -> Any:
    """A constant typed like the model's column (so times go through the UTC type on both backends)."""
    return bindparam(None, value, type_=model.__table__.c[column].type)


async def fill(engine: AsyncEngine, first: int, last: int, topic: str) -> None:
    """Store conversations `first`..`last` (ids -first..-last) with everything that hangs off them."""
    old = now() - timedelta(days=40)
    series = select(literal(first, Integer).label("g")).cte("series", recursive=True)
    series = series.union_all(select((series.c.g + 1).label("g")).where(series.c.g < last))
    g = series.c.g
    key = literal("slack:S") + cast(g, String)
    tables: list[tuple[type[Base], dict[str, Any], Any]] = [
        (Customer, {"id": -g, "key": key, "display_name": literal("Stored customer"), "opted_out": literal(False),
                    "vip": literal(False), "created_at": at(Customer, "created_at", old)}, None),
        (Conversation, {"id": -g, "customer_id": -g, "state": literal("idle"),
                        "context": at(Conversation, "context", {}), "channel_id": literal("DSTORED"),
                        "failed_attempts": literal(0), "frustrated": literal(False),
                        "opened_at": at(Conversation, "opened_at", old),
                        "last_message_at": at(Conversation, "last_message_at", old),
                        "closed_at": at(Conversation, "closed_at", old), "close_reason": literal("resolved")}, None),
        (Need, {"customer_id": -g, "conversation_id": -g, "topic": literal(topic), "tags": at(Need, "tags", []),
                "words": literal("my battery won't charge"), "status": literal("resolved"), "attempts": literal(1),
                "created_at": at(Need, "created_at", old), "resolved_at": at(Need, "resolved_at", old)}, None),
        (Rating, {"conversation_id": -g, "customer_id": -g, "score": literal(5),
                  "created_at": at(Rating, "created_at", old)}, None),
        (FollowUp, {"customer_id": -g, "conversation_id": -g, "status": literal("yes"),
                    "due_at": at(FollowUp, "due_at", old), "sent_at": at(FollowUp, "sent_at", old),
                    "answered_at": at(FollowUp, "answered_at", old)}, None),
        (Offer, {"customer_id": -g, "conversation_id": -g, "kind": literal("product"), "sku": literal("lock"),
                 "reason": literal("stored"), "allowed": literal(True), "status": literal("declined"),
                 "created_at": at(Offer, "created_at", old)}, None),
        (ProcessedEvent, {"event_key": literal("slack:EvS") + cast(g, String),
                          "created_at": at(ProcessedEvent, "created_at", old)}, None),
        (Handoff, {"conversation_id": -g, "customer_id": -g, "reason": literal("asked"), "priority": literal(0),
                   "status": literal("closed"), "created_at": at(Handoff, "created_at", old)}, g % 10 == 0),
    ]
    for direction, kind, words in (("in", None, "my battery won't charge"), ("out", "answer", "Try this."),
                                   ("in", None, "yes"), ("out", "satisfaction_check", "How did we do?")):
        tables.append((Message, {"conversation_id": -g, "direction": literal(direction),
                                 "kind": literal(kind, String), "text": literal(words),
                                 "created_at": at(Message, "created_at", old)}, None))
    async with engine.begin() as connection:
        for model, values, where in tables:
            query = select(*[value.label(name) if hasattr(value, "label") else literal_column(str(value))
                             for name, value in values.items()])
            query = query.select_from(series)
            if where is not None:
                query = query.where(where)
            table = model.__table__
            assert isinstance(table, Table)  # every model maps one Table
            await connection.execute(insert(table).from_select(list(values), query))
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE"))
        await connection.commit()


def returning(size: int, count: int, rng: random.Random) -> list[Inbound]:
    """Stored customers (picked at random) coming back with a new question."""
    return [Inbound("slack", f"S{n}", text="how do I book a repair?", display_name="Stored customer",
                    channel_id="DSTORED") for n in rng.sample(range(1, size + 1), count)]


@contextmanager
def statement_times(engine: AsyncEngine) -> Iterator[defaultdict[str, float]]:
    """Add up the seconds each statement (by its SQL's start) spends in the driver while the block runs."""
    seconds: defaultdict[str, float] = defaultdict(float)
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seconds[re.sub(r"\s+", " ", statement)[:80]] += time.perf_counter() - started.pop()

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    try:
        yield seconds
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        event.remove(engine.sync_engine, "after_cursor_execute", after)


async def measure(backend: str, services: Services, sizes: list[int], folder: Path, *,
                  rounds: int = 1, statements: bool = False) -> list[str]:
    rows: list[str] = []
    topic = services.knowledge.intents[0].name
    rng = random.Random(5)
    async with database(backend, folder) as url, core_over(url, services) as (core, engine):
        await timed(core, messages(12, f"warm{backend}")[:40])
        stored = 0
        for size in sizes:
            started = time.perf_counter()
            fill_engine = create_engine(url)
            try:
                await fill(fill_engine, stored + 1, size, topic)
            finally:
                await fill_engine.dispose()
            filled, stored = time.perf_counter() - started, size
            for round_number in range(rounds):
                _, fresh = await timed(core, messages(NEW_CUSTOMER_MESSAGES // 4 + 1, f"new{size}-{round_number}-")
                                       [:NEW_CUSTOMER_MESSAGES])
                with statement_times(engine) as seconds:
                    _, back = await timed(core, returning(size, RETURNING_MESSAGES, rng))
                f50, f99 = summary(fresh)
                b50, b99 = summary(back)
                rows.append(f"| {backend} | {size:,} | {statistics.fmean(fresh):.1f} | {f50:.1f} | {f99:.1f} | "
                            f"{statistics.fmean(back):.1f} | {b50:.1f} | {b99:.1f} | {filled:.0f} | "
                            f"{load_average()} |")
                print(rows[-1], flush=True)
                for statement, spent in sorted(seconds.items(), key=lambda item: -item[1]) if statements else ():
                    print(f"    {spent * 1000 / len(back):.3f} ms a returning turn: {statement}", flush=True)
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--rounds", type=int, default=1, help="measure each size this many times in turn")
    parser.add_argument("--statements", action="store_true", help="time the returning turns' statements too")
    args = parser.parse_args()
    services = demo_services()
    print(f"load average at start: {load_average()}")
    print("| backend | stored conversations | new customer mean ms | p50 | p99 | returning mean ms | p50 | p99 "
          "| fill s | load average |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends:
            await measure(backend, services, sorted(args.sizes), Path(folder), rounds=args.rounds,
                          statements=args.statements)


if __name__ == "__main__":
    asyncio.run(main())
