"""Commands over the stored data: stats, migrations, a customer's export and erasure."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime

from bot.config import Config
from bot.wiring import open_database
from handlers import stats as stats_use_case
from storage.database import create_engine, upgrade
from storage.models import Customer
from storage.unit_of_work import UnitOfWork


def stats(args: argparse.Namespace, config: Config) -> int:
    """Print the manager figures for the period, as text or JSON."""
    async def compute() -> dict[str, object]:
        async with open_database(config) as database, database.unit_of_work() as uow:
            return await stats_use_case.compute(uow, args.since, datetime.now(UTC), config.selling.min_rating)

    figures = asyncio.run(compute())
    print(json.dumps(figures) if args.json else stats_use_case.as_text(figures))
    return 0


def db_upgrade(args: argparse.Namespace, config: Config) -> int:
    """Apply every migration to the configured database."""
    async def apply() -> None:
        engine = create_engine(config.database.url.get_secret_value())
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(apply())
    print("database is up to date")
    return 0


def export(args: argparse.Namespace, config: Config) -> int:
    """Print everything stored about one customer as JSON."""
    async def collect() -> dict[str, object]:
        async with open_database(config) as database, database.unit_of_work() as uow:
            customer = await _find(uow, args.customer)
            return await uow.privacy.export(customer)

    print(json.dumps(asyncio.run(collect()), indent=2, default=str))
    return 0


def forget(args: argparse.Namespace, config: Config) -> int:
    """Erase everything stored about one customer."""
    async def erase() -> str:
        async with open_database(config) as database, database.unit_of_work() as uow:
            customer = await _find(uow, args.customer)
            key = customer.key
            await uow.privacy.erase(customer)
            await uow.commit()
            return key

    print(f"erased every record of {asyncio.run(erase())}")
    return 0


async def _find(uow: UnitOfWork, wanted: str) -> Customer:
    customer = await uow.customers.get(int(wanted)) if wanted.isdigit() else await uow.customers.by_key(wanted)
    if customer is None:
        raise ValueError(f"no customer {wanted!r} (use a key like console:alice or a numeric id)")
    return customer
