"""Shared pieces of the engine benchmarks: the demo services, a core over a database, the script mix.

Not a benchmark itself; `engine_throughput.py`, `engine_memory.py`, `engine_growth.py` and
`engine_startup.py` import it.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

from handlers.app import Concierge  # noqa: E402
from handlers.knowledge_loader import demo_knowledge_path, load_knowledge  # noqa: E402
from handlers.messages import Inbound  # noqa: E402
from handlers.policy import Policy  # noqa: E402
from handlers.replies import Templates  # noqa: E402
from handlers.turn import Services  # noqa: E402
from handlers.understanding.factory import build_understander  # noqa: E402
from storage.database import create_engine, open_engine, session_factory, upgrade  # noqa: E402
from storage.unit_of_work import SqlUnitOfWork, UnitOfWork  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("CONCIERGE_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
CACHE = ROOT / ".concierge-cache"

# Conversations as customers hold them: a question, the answer to the bot's check, a rating, thanks;
# an unhappy one; small talk; a follow-up question. Each customer plays one script from the start.
SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("how far can I go on one charge?", "yes", "5", "thanks"),
    ("my battery won't charge", "no", "it doesn't charge at all, the light stays off", "yes", "4"),
    ("WHERE IS MY ORDER?? This is the third time I'm asking!!!", "no", "no"),
    ("hi", "how do I book a repair?", "yes", "5"),
    ("I have a flat tyre", "yes", "3", "the repair took too long"),
    ("can I return the bike?", "no", "I bought it last week and it is too big", "yes"),
)


def now() -> datetime:
    return datetime.now(UTC)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def rss_mb() -> float:
    """This process's resident set size right now, in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(latencies_ms: list[float]) -> tuple[float, float]:
    return statistics.median(latencies_ms), percentile(latencies_ms, 0.99)


def demo_services() -> Services:
    """The demo knowledge base, its understanding model from the repository's cache, the templates."""
    knowledge = load_knowledge(demo_knowledge_path())
    understander = build_understander(knowledge, cache_dir=CACHE)
    understander.understand("hello, where is my order?")
    templates = Templates(seed=7)
    templates.warm_up()
    return Services(knowledge, understander, templates, Policy())


def messages(customers: int, prefix: str, start: int = 0) -> list[Inbound]:
    """Every customer's script, interleaved round-robin so turns of different customers alternate."""
    plays = [(f"{prefix}{n}", SCRIPTS[n % len(SCRIPTS)]) for n in range(start, start + customers)]
    longest = max(len(script) for script in SCRIPTS)
    return [Inbound("slack", user, text=script[i], display_name=f"Customer {user}", channel_id=f"D{user}")
            for i in range(longest) for user, script in plays if i < len(script)]


@asynccontextmanager
async def database(kind: str, folder: Path) -> AsyncIterator[str]:
    """A fresh, migrated database: a SQLite file in `folder`, or a new PostgreSQL database (dropped after)."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url
        return
    name = f"concierge_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def core_over(url: str, services: Services) -> AsyncIterator[tuple[Concierge, AsyncEngine]]:
    """The conversation engine over a database, on the wall clock, opened as the bot opens it."""
    async with open_engine(url) as engine:
        sessions = session_factory(engine)

        def unit_of_work() -> UnitOfWork:
            return SqlUnitOfWork(sessions)

        yield Concierge(unit_of_work, services, now), engine


async def timed(core: Concierge, inbounds: list[Inbound]) -> tuple[float, list[float]]:
    """Handle the inbounds one after another; return wall seconds and per-message latencies in ms."""
    latencies: list[float] = []
    clock: Callable[[], float] = time.perf_counter
    started = clock()
    for inbound in inbounds:
        before = clock()
        await core.handle(inbound)
        latencies.append((clock() - before) * 1000)
    return clock() - started, latencies
