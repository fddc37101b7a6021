"""Commands over the stored data: stats, migrations, a customer's export and erasure."""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bot.config import Config
from bot.wiring import open_database
from handlers import audit
from handlers import stats as stats_use_case
from storage.database import create_engine, upgrade
from storage.models import Customer
from storage.stats_queries import DailyPoint
from storage.unit_of_work import UnitOfWork


def stats(args: argparse.Namespace, config: Config) -> int:
    """Print the manager figures for the period as text, JSON or CSV; optionally write the chart."""
    date_from, date_to = getattr(args, "date_from", None), getattr(args, "date_to", None)
    chart_path = getattr(args, "chart", None)
    min_rating = config.selling.min_rating
    if date_from is not None or date_to is not None:
        label, start, end = stats_use_case.date_range(date_from, date_to)
    else:
        label, start, end = args.since, stats_use_case.period_start(args.since, datetime.now(UTC)), None

    async def compute() -> tuple[dict[str, Any], list[DailyPoint]]:
        async with open_database(config) as database, database.unit_of_work() as uow:
            figures = await stats_use_case.compute_between(uow, label, start, end, min_rating)
            daily = await stats_use_case.daily(uow, start, end, min_rating) if chart_path is not None else []
            await audit.record(uow, cli_operator(), "stats", {"period": label})
            await uow.commit()
            return figures, daily

    figures, daily = asyncio.run(compute())
    if chart_path is not None:
        from handlers.stats_chart import render_chart

        chart_path.write_bytes(render_chart(daily, title=f"Concierge stats: {label}"))
    if args.json:
        print(json.dumps(figures))
    elif getattr(args, "csv", False):
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(("field", "value"))
        writer.writerows(stats_use_case.as_rows(figures))
    else:
        print(stats_use_case.as_text(figures))
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
            exported = await uow.privacy.export(customer)
            await audit.record(uow, cli_operator(), "export", {"customer_id": customer.id})
            await uow.commit()
            return exported

    print(json.dumps(asyncio.run(collect()), indent=2, default=str))
    return 0


def forget(args: argparse.Namespace, config: Config) -> int:
    """Erase everything stored about one customer."""
    async def erase() -> str:
        async with open_database(config) as database, database.unit_of_work() as uow:
            customer = await _find(uow, args.customer)
            key = customer.key
            await audit.record(uow, cli_operator(), "forget", {"customer_id": customer.id})
            await uow.privacy.erase(customer)
            await uow.commit()
            return key

    print(f"erased every record of {asyncio.run(erase())}")
    return 0


def cli_operator() -> str:
    """Name who ran a command from the command line, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


async def _find(uow: UnitOfWork, wanted: str) -> Customer:
    customer = await uow.customers.get(int(wanted)) if wanted.isdigit() else await uow.customers.by_key(wanted)
    if customer is None:
        raise ValueError(f"no customer {wanted!r} (use a key like console:alice or a numeric id)")
    return customer
