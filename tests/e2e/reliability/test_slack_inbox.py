"""Slack over HTTP: an event is stored before the 200; one that could not be stored gets a 500 and comes back.

In process: the Slack adapter, the hub and the real core over SQLite and PostgreSQL, against the fake
Slack API. The journal can be made to fail, as it does while the database is down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.channels.slack import SlackChannel
from bot.config import SlackConfig
from bot.hub import Hub
from bot.inbox import SqlJournal
from bot.outbox import OutboxTiming, SqlOutbox
from handlers.app import Concierge
from handlers.messages import Inbound
from handlers.turn import Services
from storage.models import Message
from storage.unit_of_work import UnitOfWorkFactory
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.slack_requests import dm, free_port, signed_post

SORRY = "Sorry, the database is down; I have your message."


class FlakyJournal(SqlJournal):
    """The real journal, refusing to store while `down` is set (a database that does not answer)."""

    down = False

    async def store(self, inbound: Inbound) -> int | None:
        if self.down:
            raise ConnectionRefusedError("database unavailable")
        return await super().store(inbound)


@dataclass
class Running:
    channel: SlackChannel
    journal: FlakyJournal
    url: str

    async def post(self, body: str, retry: int = 0) -> int:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error"} if retry else {}
        status, _ = await asyncio.to_thread(signed_post, self.url, body, SIGNING_SECRET, headers=headers)
        return status


async def _run(fake: FakeSlack, unit_of_work: UnitOfWorkFactory, services: Services) -> AsyncIterator[Running]:
    def clock() -> datetime:
        return datetime.now(UTC)

    port = free_port()
    settings = SlackConfig.model_validate({"bot_token": SecretStr(BOT_TOKEN), "api_url": fake.api_url, "port": port,
                                           "signing_secret": SecretStr(SIGNING_SECRET)})
    journal = FlakyJournal(unit_of_work, clock)
    channel = SlackChannel(settings, journal=journal, replay_after=0.5)
    outbox = SqlOutbox(unit_of_work, clock, OutboxTiming(retry_after=timedelta(seconds=30)))
    hub = Hub(Concierge(unit_of_work, services, clock), [channel], outbox=outbox, unavailable=SORRY)
    task = asyncio.create_task(channel.run(hub))
    await asyncio.wait_for(channel.ready.wait(), 10)
    try:
        yield Running(channel, journal, f"http://127.0.0.1:{port}/slack/events")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def running(fake: FakeSlack, unit_of_work: UnitOfWorkFactory, demo_services: Services) -> AsyncIterator[Running]:
    async for value in _run(fake, unit_of_work, demo_services):
        yield value


async def _stored_inbound(unit_of_work: UnitOfWorkFactory) -> int:
    async with unit_of_work() as uow:
        query = select(func.count()).select_from(Message).where(Message.direction == "in")
        return int(await uow.session.scalar(query) or 0)  # type: ignore[attr-defined]


def _replies(fake: FakeSlack, channel: str) -> list[str]:
    return [str(c.params.get("text")) for c in fake.of("chat.postMessage") if c.response.get("channel") == channel]


async def test_an_event_that_cannot_be_stored_gets_an_error_and_its_retry_is_answered_once(
    running: Running, fake: FakeSlack, unit_of_work: UnitOfWorkFactory
) -> None:
    """Database down: 500 and one apology; Slack's retries after it is back: one turn, one set of replies."""
    body = json.dumps(dm("UANA", "where is my order?", event_id="EvDown1"))
    running.journal.down = True
    assert await running.post(body) == 500
    assert await running.post(body, retry=1) == 500
    await fake.await_for("chat.postMessage")
    assert _replies(fake, "DANA") == [SORRY], "one apology, however many retries fail"
    assert await _stored_inbound(unit_of_work) == 0

    running.journal.down = False
    assert await running.post(body, retry=2) == 200
    await fake.await_for("chat.postMessage", count=2)
    await asyncio.sleep(0.5)
    answered = _replies(fake, "DANA")
    assert await running.post(body, retry=3) == 200, "a late duplicate is acknowledged..."
    await asyncio.sleep(1.0)
    assert _replies(fake, "DANA") == answered, "...and not answered again"
    assert await _stored_inbound(unit_of_work) == 1


async def test_a_stored_event_a_crash_left_unhandled_is_handled_after_the_restart(
    fake: FakeSlack, unit_of_work: UnitOfWorkFactory, demo_services: Services
) -> None:
    """Acknowledged (stored) and then the process died: the next process handles it at start."""
    journal = SqlJournal(unit_of_work, lambda: datetime.now(UTC))
    await journal.store(Inbound("slack", "UBEN", text="where is my order?", event_id="EvCrash1",
                                channel_id="DBEN"))
    async for _ in _run(fake, unit_of_work, demo_services):
        await fake.await_for("chat.postMessage")
        await asyncio.sleep(0.3)
    assert _replies(fake, "DBEN"), "answered after the restart"
    assert await _stored_inbound(unit_of_work) == 1
    assert await journal.pending(timedelta(0)) == [], "the inbox is empty once handled"
