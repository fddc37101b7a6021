"""Memory: resident set size of one engine process with 100,000 customers on record.

Fills 100,000 customers (each with a stored conversation and its records, generated in the database as
in `engine_growth.py`), then runs messages through `Concierge.handle`: new customers playing the script
mix and stored customers coming back. Prints RSS at each stage; the target is under 300 MB.

    .venv/bin/python benchmarks/engine_memory.py [--customers 100000] [--messages 2000] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from engine_common import core_over, database, demo_services, load_average, messages, rss_mb, timed
from engine_growth import fill, returning

from storage.database import create_engine


async def measure(backend: str, customers: int, count: int, folder: Path) -> None:
    base = rss_mb()
    services = demo_services()
    loaded = rss_mb()
    async with database(backend, folder) as url:
        engine = create_engine(url)
        try:
            await fill(engine, 1, customers, services.knowledge.intents[0].name)
        finally:
            await engine.dispose()
        async with core_over(url, services) as (core, _engine):
            await timed(core, messages(count // 8 + 1, "mem")[: count // 2])
            await timed(core, returning(customers, count // 2, random.Random(3)))
            after = rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {backend} | {customers:,} | {count:,} | {base:.0f} | {loaded:.0f} | {after:.0f} | {peak:.0f} "
          f"| {load_average()} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    if len(args.backends) > 1:
        # One process per backend, so each RSS figure is its own.
        print(f"load average at start: {load_average()}")
        print("| backend | customers | messages | RSS at start MB | with model MB | after messages MB "
              "| peak MB | load average |")
        print("|---|---:|---:|---:|---:|---:|---:|---|", flush=True)
        for backend in args.backends:
            subprocess.run([sys.executable, __file__, "--customers", str(args.customers), "--messages",
                            str(args.messages), "--backends", backend], check=True)
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(args.backends[0], args.customers, args.messages, Path(folder)))


if __name__ == "__main__":
    main()
