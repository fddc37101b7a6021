"""The floor of a helpdesk turn, for the chat benchmarks: understand the message and store it as one row.

A bot that keeps its conversations pays at least one committed insert per message, and one that
answers from a knowledge base pays at least one understanding call, whatever else it does. The Slack
and Discord throughput benchmarks run their bare echo app with these added, so the tables show how
close to the plain echo any such bot could get on this machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from handlers.knowledge_loader import demo_knowledge_path, load_knowledge
from handlers.understanding.factory import build_understander
from handlers.understanding.types import Understander
from storage.database import create_engine, open_engine, upgrade
from storage.models import Conversation, Customer, Message

StoreRow = Callable[[str], Awaitable[None]]


def _demo_understander(cache_dir: Path) -> Understander:
    understander = build_understander(load_knowledge(demo_knowledge_path()), cache_dir=cache_dir)
    understander.understand("hello, where is my order?")  # the first call loads what is lazy
    return understander


def _now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def message_rows(path: Path, *, understand_in: Path | None = None) -> AsyncIterator[StoreRow]:
    """Open a fresh migrated SQLite file, as the bot opens it; yield "store this text as a message row".

    With `understand_in` (a model cache folder), the text is first run through the default engine
    trained on the demo knowledge base, as the bot would understand it.
    """
    understander = _demo_understander(understand_in) if understand_in else None
    url = f"sqlite+aiosqlite:///{path}"
    migrating = create_engine(url)
    await upgrade(migrating)
    await migrating.dispose()
    async with open_engine(url) as engine:
        async with engine.begin() as connection:
            customer_id = (await connection.execute(
                insert(Customer).values(key="bench:floor", created_at=_now())
                .returning(Customer.id))).scalar_one()
            conversation_id = (await connection.execute(
                insert(Conversation).values(customer_id=customer_id, state="idle", context={},
                                            opened_at=_now(), last_message_at=_now())
                .returning(Conversation.id))).scalar_one()

        # One writer at a time, as the bot's units of work take turns on SQLite (storage/unit_of_work.py).
        writing = asyncio.Lock()

        async def store(text: str) -> None:
            if understander is not None:
                understander.understand(text)
            # One row, one transaction: the same statement as the engine benchmark's bare-insert baseline.
            async with writing, engine.begin() as connection:
                await connection.execute(insert(Message).values(
                    conversation_id=conversation_id, direction="in", text=text, created_at=_now()))

        yield store
