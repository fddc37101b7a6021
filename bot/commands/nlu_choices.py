"""`concierge nlu choices`: what customers picked when the bot asked "did you mean…?", as training rows."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.data import cli_operator
from bot.config import Config
from bot.wiring import open_database
from handlers import audit
from storage.models import ClarifyChoice


def choices(args: argparse.Namespace, config: Config) -> int:
    """Print every stored close-call choice as `text,label` CSV, the format `nlu eval` reads."""

    async def collect() -> list[tuple[str, str]]:
        async with open_database(config) as database:
            async with AsyncSession(database.engine) as session:
                query = select(ClarifyChoice.text, ClarifyChoice.intent).order_by(ClarifyChoice.id)
                rows = [(text, intent) for text, intent in (await session.execute(query)).all()]
            # Customers' own words leave the database: the audit log says who took them (not the words).
            async with database.unit_of_work() as uow:
                await audit.record(uow, cli_operator(), "export_choices", {"rows": len(rows)})
                await uow.commit()
            return rows

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(("text", "label"))
    writer.writerows(asyncio.run(collect()))
    return 0
