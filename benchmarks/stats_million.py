"""Time `concierge stats --since 30d` over a million conversations, on SQLite and on PostgreSQL.

    python benchmarks/stats_million.py --sqlite /tmp/stats-bench.db
    python benchmarks/stats_million.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test --keep
    python benchmarks/stats_million.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/<kept db> --reuse

The SQLite file is (re)created; for PostgreSQL a scratch database is created next to the one named in the
URL and dropped afterwards. Rows are generated deterministically (seeded) over 90 days ending now, bulk
loaded (sqlite3 executemany, asyncpg COPY), then the stats compute call is timed a few times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handlers import stats
from storage.database import create_engine, session_factory, upgrade
from storage.unit_of_work import SqlUnitOfWork

DAYS = 90
TOPICS = ("battery", "brakes", "charger", "app", "delivery", "warranty", "tyres", "lights", "motor", "billing")
AGENTS = tuple(f"slack:AGENT{n}" for n in range(8))
SKUS = ("BAT-2", "CHG-FAST", "BRK-PADS", "LIGHT-KIT")
MIN_RATING = 4
Row = tuple[Any, ...]
Tables = dict[str, list[Row]]

COLUMNS = {
    "customers": ("id", "key", "display_name", "opted_out", "vip", "referred_by_id", "created_at",
                  "opted_out_at"),
    "conversations": ("id", "customer_id", "state", "context", "channel_id", "thread_id", "failed_attempts",
                      "frustrated", "opened_at", "last_message_at", "closed_at", "close_reason"),
    "messages": ("id", "conversation_id", "direction", "kind", "text", "buttons", "author", "created_at",
                 "sent_at"),
    "needs": ("id", "customer_id", "conversation_id", "topic", "tags", "words", "status", "attempts",
              "created_at", "resolved_at"),
    "ratings": ("id", "conversation_id", "customer_id", "score", "created_at"),
    "offers": ("id", "customer_id", "conversation_id", "kind", "sku", "need_id", "reason", "allowed", "status",
               "created_at", "answered_at"),
    "followups": ("id", "customer_id", "conversation_id", "need_id", "due_at", "status", "sent_at",
                  "answered_at"),
    "handoffs": ("id", "conversation_id", "customer_id", "reason", "priority", "status", "agent_key",
                 "created_at", "claimed_at", "first_reply_at", "ended_at"),
    "referral_codes": ("code", "customer_id", "created_at"),
}
JSON_COLUMNS = {("conversations", "context"), ("messages", "buttons"), ("needs", "tags")}


def generate(conversations: int, end: datetime, seed: int = 7, chunk: int = 100_000) -> Iterator[Tables]:
    """Yield the rows of `conversations` conversations over DAYS days before `end`, in chunks, deterministically."""
    rng = random.Random(seed)
    customers = max(conversations * 2 // 5, 1)
    start = end - timedelta(days=DAYS)
    span = DAYS * 86400
    first = {"customers": [_customer(n, start) for n in range(1, customers + 1)]}
    first["referral_codes"] = [(f"REF{n:07d}", n, start + timedelta(seconds=rng.randrange(span)))
                               for n in range(1, customers + 1, 20)]
    yield first
    ids = dict.fromkeys(("message", "need", "rating", "offer", "followup", "handoff"), 0)
    for base in range(0, conversations, chunk):
        tables: Tables = {name: [] for name in COLUMNS if name not in first}
        for conversation in range(base + 1, min(base + chunk, conversations) + 1):
            _conversation(rng, tables, ids, conversation, rng.randint(1, customers),
                          start + timedelta(seconds=rng.randrange(span)))
        yield tables


def _customer(n: int, start: datetime) -> Row:
    return (n, f"bench:{n}", None, False, n % 50 == 0, None, start, None)


def _conversation(rng: random.Random, tables: Tables, ids: dict[str, int], conversation: int, customer: int,
                  opened: datetime) -> None:
    """Append one conversation and what happened in it: messages, a need, maybe a rating, offer, handoff."""
    roll = rng.random()
    status = "resolved" if roll < 0.75 else "unmet" if roll < 0.85 else "handed_off" if roll < 0.95 else "open"
    frustrated = rng.random() < 0.03
    closed = opened + timedelta(seconds=rng.randint(60, 1800))
    tables["conversations"].append((conversation, customer, "closed", "{}", None, None, 0, frustrated, opened,
                                    closed, closed, "rated" if status == "resolved" else "idle"))
    for offset, direction in enumerate(("in", "out", "in")):
        ids["message"] += 1
        written = opened + timedelta(seconds=offset)
        tables["messages"].append((ids["message"], conversation, direction, None if direction == "in" else "answer",
                                   "My battery runs out too soon", None, None, written,
                                   None if direction == "in" else written))
    ids["need"] += 1
    need = ids["need"]
    tables["needs"].append((need, customer, conversation, rng.choice(TOPICS), "[]", "battery runs out", status, 1,
                            opened, closed if status == "resolved" else None))
    if status == "handed_off":
        _handoff(rng, tables, ids, conversation, customer, opened)
    if status != "resolved" or rng.random() > 0.8:
        return
    ids["rating"] += 1
    score = rng.choices((1, 2, 3, 4, 5), weights=(4, 6, 12, 33, 45))[0]
    tables["ratings"].append((ids["rating"], conversation, customer, score, closed))
    if score >= MIN_RATING and not frustrated and rng.random() < 0.4:
        ids["offer"] += 1
        answer = rng.random()
        offer_status = "accepted" if answer < 0.3 else "declined" if answer < 0.8 else "made"
        kind = "product" if rng.random() < 0.85 else "referral"
        made = closed + timedelta(seconds=1)
        tables["offers"].append((ids["offer"], customer, conversation, kind, rng.choice(SKUS) if kind == "product"
                                 else None, need, "serves battery", True, offer_status, made,
                                 None if offer_status == "made" else made + timedelta(seconds=30)))
    if rng.random() < 0.3:
        ids["followup"] += 1
        due = closed + timedelta(days=3)
        answer = rng.random()
        tables["followups"].append((ids["followup"], customer, conversation, need, due,
                                    "yes" if answer < 0.6 else "no" if answer < 0.8 else "sent", due,
                                    due + timedelta(minutes=5) if answer < 0.8 else None))


def _handoff(rng: random.Random, tables: Tables, ids: dict[str, int], conversation: int, customer: int,
             opened: datetime) -> None:
    ids["handoff"] += 1
    created = opened + timedelta(seconds=30)
    taken = rng.random() < 0.9
    claimed = created + timedelta(seconds=rng.randint(10, 3600)) if taken else None
    tables["handoffs"].append((ids["handoff"], conversation, customer, "asked", rng.randint(0, 3),
                               "closed" if taken else "queued", rng.choice(AGENTS) if taken else None, created,
                               claimed, claimed + timedelta(seconds=20) if claimed else None, None))


def _naive(value: Any) -> Any:
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value


def _sqlite_value(value: Any) -> Any:
    """Store a time exactly as SQLAlchemy's SQLite DateTime does, so string comparisons hold."""
    if isinstance(value, datetime):
        return _naive(value).isoformat(" ", "microseconds")
    return value


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def load_sqlite(path: Path, conversations: int, end: datetime) -> None:
    """Create the schema by migration, then bulk insert with sqlite3 executemany."""
    _remove_sqlite(path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    await engine.dispose()
    connection = sqlite3.connect(path)
    for pragma in ("synchronous=OFF", "journal_mode=OFF", "cache_size=-1000000"):  # load speed only
        connection.execute(f"PRAGMA {pragma}")
    for tables in generate(conversations, end):
        for table, rows in tables.items():
            columns = COLUMNS[table]
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [tuple(_sqlite_value(v) for v in row) for row in rows])
        connection.commit()
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()


async def load_postgres(url: str, conversations: int, end: datetime) -> None:
    """Create the schema by migration, then bulk load every table with COPY."""
    engine = create_engine(url)
    await upgrade(engine)
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        for tables in generate(conversations, end):
            for table, rows in tables.items():
                await raw.copy_records_to_table(table, columns=list(COLUMNS[table]),
                                                records=[tuple(_naive(v) for v in row) for row in rows])
        # VACUUM as autovacuum would soon after such a load: it sets the visibility map, without which no
        # scan is index-only (each index entry would visit its table row).
        for table in COLUMNS:
            await raw.execute(f"VACUUM ANALYZE {table}")
    await engine.dispose()


async def time_stats(url: str, now: datetime, repetitions: int) -> dict[str, Any]:
    """Run the stats compute call (and the chart's daily query) a few times; return timings and figures."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    compute_times, daily_times = [], []
    figures: dict[str, Any] = {}
    try:
        for _ in range(repetitions):
            async with SqlUnitOfWork(sessions) as uow:
                began = time.perf_counter()
                figures = await stats.compute(uow, "30d", now, MIN_RATING)
                compute_times.append(time.perf_counter() - began)
                began = time.perf_counter()
                await stats.daily(uow, stats.period_start("30d", now), None, MIN_RATING)
                daily_times.append(time.perf_counter() - began)
    finally:
        await engine.dispose()
    return {"compute_median_s": round(statistics.median(compute_times), 3),
            "compute_runs_s": [round(t, 3) for t in compute_times],
            "daily_median_s": round(statistics.median(daily_times), 3), "figures": figures}


async def bench(label: str, url: str, load: Any, target: Any, conversations: int, repetitions: int) -> None:
    now = datetime.now(UTC)
    began = time.perf_counter()
    if load is not None:
        await load(target, conversations, now)
    loaded = time.perf_counter() - began if load is not None else None
    result = await time_stats(url, now, repetitions)
    summary = {"database": label, "conversations": conversations, "load_s": loaded and round(loaded, 1)}
    print(json.dumps({**summary, **result}, default=str), flush=True)


async def run(args: argparse.Namespace) -> None:
    if args.sqlite:
        path = Path(args.sqlite)
        load = None if args.reuse else load_sqlite
        await bench("sqlite", f"sqlite+aiosqlite:///{path}", load, path, args.conversations, args.repeat)
    if args.postgres and args.reuse:
        await bench("postgresql", args.postgres, None, None, args.conversations, args.repeat)
    elif args.postgres:
        name = f"concierge_bench_{uuid.uuid4().hex[:8]}"
        # Pre-ping: the scratch database is still dropped when the server restarted meanwhile.
        admin = create_async_engine(args.postgres, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
            await bench("postgresql", url, load_postgres, url, args.conversations, args.repeat)
        finally:
            if args.keep:
                print(f"kept {url}", file=sys.stderr)
            else:
                async with admin.connect() as connection:
                    await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await admin.dispose()


def main() -> None:
    """Parse the arguments and run the benchmark on each database named."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", help="SQLite file to (re)create")
    parser.add_argument("--postgres", help="PostgreSQL URL whose server gets a scratch database")
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch PostgreSQL database (to inspect)")
    parser.add_argument("--reuse", action="store_true",
                        help="time an existing SQLite file, or the PostgreSQL database the URL names (one kept with "
                             "--keep), instead of filling a new one")
    args = parser.parse_args()
    if not (args.sqlite or args.postgres):
        parser.error("give --sqlite PATH and/or --postgres URL")
    if args.reuse and args.sqlite and not Path(args.sqlite).exists():
        parser.error(f"--reuse: {args.sqlite} does not exist")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
