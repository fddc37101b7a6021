"""Build the running application from the config: database, knowledge, understanding, core, channels."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import OffsetClock
from bot.config import Config
from bot.inbox import SqlJournal
from bot.outbox import OutboxTiming, SqlOutbox
from handlers.app import Concierge
from handlers.knowledge import KnowledgeBase
from handlers.knowledge_loader import demo_knowledge_path, load_knowledge
from handlers.policy import Policy, Roles, SellingPolicy
from handlers.replies import Templates
from handlers.turn import Services
from handlers.understanding.factory import build_understander
from storage.database import is_sqlite, open_engine, session_factory, upgrade
from storage.inbox import create_inbox, inbox_url
from storage.unit_of_work import SqlUnitOfWork, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class Database:
    """An open database and the unit-of-work factory over it."""

    engine: AsyncEngine
    unit_of_work: UnitOfWorkFactory
    # Its own connection pool: storing an event before its ack never waits for a busy turn's connection.
    journal_unit_of_work: UnitOfWorkFactory


@dataclass
class Runtime:
    """Everything a channel needs: the core, its clock and its database."""

    core: Concierge
    clock: OffsetClock
    database: Database
    services: Services
    outbox: SqlOutbox
    journal: SqlJournal


@asynccontextmanager
async def open_database(config: Config) -> AsyncIterator[Database]:
    """Open the configured database; the embedded SQLite default brings its own schema up to date."""
    url, echo = config.database.url.get_secret_value(), config.database.echo
    async with open_engine(url, echo=echo) as engine, open_engine(inbox_url(url), echo=echo) as journal_engine:
        if is_sqlite(engine):
            await upgrade(engine)
            await create_inbox(journal_engine)
        sessions, journal_sessions = session_factory(engine), session_factory(journal_engine)

        def unit_of_work() -> UnitOfWork:
            return SqlUnitOfWork(sessions)

        def journal_unit_of_work() -> UnitOfWork:
            return SqlUnitOfWork(journal_sessions)

        yield Database(engine, unit_of_work, journal_unit_of_work)


def load_configured_knowledge(config: Config) -> KnowledgeBase:
    """Load the configured knowledge base, or the demo one."""
    return load_knowledge(config.knowledge.path or demo_knowledge_path())


def build_services(config: Config) -> Services:
    """Load the knowledge base, the understanding model (cached) and the templates."""
    started = time.perf_counter()
    knowledge = load_configured_knowledge(config)
    understanding = config.understanding
    understander = build_understander(
        knowledge, engine=understanding.engine, cache_dir=understanding.cache_dir, model=understanding.model,
        oos_threshold=understanding.oos_threshold, close_call_margin=understanding.close_call_margin,
    )
    templates = Templates(config.templates.override_dir)
    # Pay one-time costs (lexicons, compiled templates) now, not on the first customer's message.
    understander.understand("hello, where is my order?")
    templates.warm_up()
    log.info("knowledge and understanding ready in %.2fs", time.perf_counter() - started)
    return Services(knowledge, understander, templates, policy_from(config))


def policy_from(config: Config) -> Policy:
    """Translate the config's selling, roles, follow-up and privacy sections into the core's policy."""
    selling = config.selling
    return Policy(
        selling=SellingPolicy(
            max_offers_per_30d=selling.max_offers_per_30d,
            decline_cooldown=timedelta(days=selling.decline_cooldown_days),
            min_rating=selling.min_rating,
        ),
        roles=Roles(frozenset(config.roles.managers), frozenset(config.roles.agents), frozenset(config.roles.vip)),
        followup_after=config.followup.delay,
        redact_personal_data=config.privacy.redact,
        desk_platforms=desk_platforms(config),
    )


def desk_platforms(config: Config) -> tuple[str, ...]:
    """Name the platforms with a desk channel configured; the console always has one."""
    platforms = ["slack"] if config.slack.desk_channel else []
    if config.discord.desk_channel_id is not None:
        platforms.append("discord")
    return (*platforms, "console")


@asynccontextmanager
async def open_runtime(config: Config) -> AsyncIterator[Runtime]:
    """Open the database and build the core over it."""
    services = build_services(config)
    clock = OffsetClock()
    async with open_database(config) as database:
        settings = config.outbox
        timing = OutboxTiming(timedelta(seconds=settings.retry_after_seconds),
                              timedelta(hours=settings.give_up_after_hours))
        outbox = SqlOutbox(database.unit_of_work, clock, timing)
        journal = SqlJournal(database.journal_unit_of_work, clock, timing.give_up_after)
        core = Concierge(database.unit_of_work, services, clock)
        yield Runtime(core, clock, database, services, outbox, journal)
