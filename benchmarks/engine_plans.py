"""Query plans of every per-message statement on PostgreSQL and SQLite with 100,000 stored conversations.

Records the SQL the engine runs for the script mix, returning customers and a handoff (asking for a
person, then writing while waiting), then EXPLAINs each distinct SELECT/UPDATE/DELETE with its
parameters on the filled database (EXPLAIN QUERY PLAN on SQLite) and lists any full table scan: the
per-message lookups should all be index lookups, so the cost per message stays flat as the record grows.

    .venv/bin/python benchmarks/engine_plans.py [--stored 100000] [--backends postgres sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from pathlib import Path
from typing import Any

from engine_common import core_over, database, demo_services, load_average, messages, timed
from engine_growth import fill, returning
from sqlalchemy import event

from handlers.messages import Inbound
from handlers.turn import Services
from storage.database import create_engine

HANDOFF = ("I want to talk to a person", "hello? anyone there?", "my battery won't charge")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["postgres", "sqlite"])
    parser.add_argument("--list", action="store_true", help="print every statement explained")
    args = parser.parse_args()
    services = demo_services()
    print(f"load average at start: {load_average()}")
    for backend in args.backends:
        await explain(backend, services, args.stored, args.list)
    print(f"load average at end: {load_average()}")


def full_scan(backend: str, line: str) -> bool:
    if backend == "postgres":
        return "Seq Scan" in line
    return line.lstrip().startswith("SCAN ") and "INDEX" not in line and "CONSTANT ROW" not in line


async def explain(backend: str, services: Services, stored: int, listing: bool) -> None:
    seen: dict[str, Any] = {}

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if not many and statement.lstrip().split(" ", 1)[0].upper() in ("SELECT", "UPDATE", "DELETE"):
            seen.setdefault(statement, parameters)

    with tempfile.TemporaryDirectory() as folder:
        async with database(backend, Path(folder)) as url:
            filler = create_engine(url)
            try:
                await fill(filler, 1, stored, services.knowledge.intents[0].name)
            finally:
                await filler.dispose()
            async with core_over(url, services) as (core, engine):
                event.listen(engine.sync_engine, "before_cursor_execute", record)
                await timed(core, messages(30, "plan"))
                await timed(core, returning(stored, 20, random.Random(1)))
                await timed(core, [Inbound("slack", "UHAND", text=words, channel_id="DHAND") for words in HANDOFF])
                event.remove(engine.sync_engine, "before_cursor_execute", record)
                scans: list[str] = []
                async with engine.connect() as connection:
                    for statement, parameters in seen.items():
                        prefix = "EXPLAIN" if backend == "postgres" else "EXPLAIN QUERY PLAN"
                        result = await connection.exec_driver_sql(f"{prefix} {statement}", parameters)
                        plan = [str(row[-1]) for row in result.all()]
                        scans += [f"{line.strip()}\n    in: {' '.join(statement.split())[:300]}"
                                  for line in plan if full_scan(backend, line)]
    print(f"{backend}: {len(seen)} distinct statements explained with {stored:,} stored conversations; "
          f"{len(scans)} full table scans")
    for scan in scans:
        print(" -", scan)
    if listing:
        for statement in seen:
            print("   ", " ".join(statement.split())[:160])


if __name__ == "__main__":
    asyncio.run(main())
