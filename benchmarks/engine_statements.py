"""SQL statements per turn of the conversation engine, counted by kind, for the script mix.

`Concierge.handle` over a fresh database, customers playing `engine_common.SCRIPTS`; a
`before_cursor_execute` listener counts every statement the engine sends (BEGIN is implicit and not
counted; COMMIT is counted apart). Prints the mean per turn, by statement kind and table.

    .venv/bin/python benchmarks/engine_statements.py [--messages 300] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from engine_common import core_over, database, demo_services, messages, timed
from sqlalchemy import event

from handlers.turn import Services

_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


def _kind(statement: str) -> str:
    verb = statement.lstrip().split(None, 1)[0].upper()
    table = _TABLE.search(statement)
    return f"{verb} {table.group(1) if table else ''}".strip()


async def count(backend: str, services: Services, total: int, folder: Path) -> tuple[Counter[str], int]:
    kinds: Counter[str] = Counter()
    async with database(backend, folder) as url, core_over(url, services) as (core, engine):
        await timed(core, messages(12, "warm")[:40])

        def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            kinds[_kind(statement)] += 1

        def committed(_conn: Any) -> None:
            kinds["COMMIT"] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", seen)
        event.listen(engine.sync_engine, "commit", committed)
        inbounds = messages(total // 4 + 1, "cust")[:total]
        await timed(core, inbounds)
    return kinds, len(inbounds)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    services = demo_services()
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends:
            kinds, turns = await count(backend, services, args.messages, Path(folder))
            statements = sum(n for kind, n in kinds.items() if kind != "COMMIT")
            print(f"{backend}: {turns} turns, {statements / turns:.2f} statements per turn "
                  f"(+ {kinds['COMMIT'] / turns:.2f} commits)")
            for kind, n in kinds.most_common():
                print(f"  {n / turns:6.2f}  {kind}")


if __name__ == "__main__":
    asyncio.run(main())
