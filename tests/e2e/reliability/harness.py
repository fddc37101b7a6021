"""A scripted Slack load against one `concierge run slack` on PostgreSQL, with faults injected meanwhile.

The harness plays Slack honestly: an event is delivered until the bot answers 200 (a killed bot, a
refused connection or an error status means "deliver again", with the same event id and
`X-Slack-Retry-Num`, as Slack does), and each customer sends their next message only once every reply
to the last one arrived. What must hold at the end is read from the database and from the fake Slack.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from bot.config import load_config
from bot.wiring import build_services
from handlers.app import Concierge
from handlers.messages import Inbound
from storage.database import create_engine, session_factory, upgrade
from storage.unit_of_work import SqlUnitOfWork, UnitOfWork
from tests.e2e.slack.slack_harness import BotProcess, bot_environment, concierge_command, kind_of, start_bot
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, Call, FakeSlack
from tests.fakes.slack_requests import dm, free_port, sign

# `run slack -v`: the log tells how each fault was recovered from (replays, outbox sends, confirmations).
VERBOSE_SLACK = ("slack", "-v")
CUSTOMERS = 100
MESSAGES_EACH = 10
IN_FLIGHT = 16
QUESTIONS = (
    "how far can I go on one charge?", "my battery won't charge", "where is my order?",
    "how do I book a repair?", "I have a flat tyre", "the brakes squeak when I stop",
    "can I return the bike?", "how long is the warranty?", "do you sell helmets?",
    "the app won't pair with the bike",
)
ANSWERS = ("yes", "no", "yes", "5", "thanks")


def scripts(seed: int = 11, count: int = 10) -> list[list[str]]:
    """A handful of conversations of `MESSAGES_EACH` messages: questions, then answers to what was asked."""
    rng = random.Random(seed)
    return [[rng.choice(QUESTIONS) if i % 2 == 0 or rng.random() < 0.3 else rng.choice(ANSWERS)
             for i in range(MESSAGES_EACH)] for _ in range(count)]


def write_config(directory: Path, url: str, api_url: str, port: int, cache_dir: Path) -> Path:
    """One bot's config: PostgreSQL, the fake Slack over HTTP, an outbox that retries within seconds."""
    path = directory / "concierge.toml"
    path.write_text("\n".join([
        "[database]", f'url = "{url}"', "",
        "[understanding]", f'cache_dir = "{cache_dir}"', "",
        "[slack]", f'api_url = "{api_url}"', f'bot_token = "{BOT_TOKEN}"', 'host = "127.0.0.1"',
        f"port = {port}", f'signing_secret = "{SIGNING_SECRET}"', "",
        "[outbox]", "retry_after_seconds = 1", "sweep_seconds = 0.5", "",
    ]))
    return path


async def prepare_load(
    directory: Path, url: str, fake: FakeSlack, model_cache: Path, plays: list[list[str]]
) -> tuple[Path, int, list[list[list[str]]]]:
    """Write the bot's config, upgrade its PostgreSQL database, and work out the replies each script expects."""
    port = free_port()
    config = write_config(directory, url, fake.api_url, port, model_cache)
    await asyncio.to_thread(
        subprocess.run, [*concierge_command(), "db", "upgrade", "--config", str(config)], check=True,
        env=bot_environment(), cwd=directory, timeout=60, capture_output=True)
    return config, port, await reference_kinds(config, directory, plays)


async def reference_kinds(config_path: Path, directory: Path, plays: list[list[str]]) -> list[list[list[str]]]:
    """Each script run once through the core in this process (SQLite): the reply kinds of each message."""
    config = load_config(config_path, environ={})
    services = build_services(config)
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'reference.db'}")
    await upgrade(engine)
    sessions = session_factory(engine)

    def unit_of_work() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    core = Concierge(unit_of_work, services, lambda: datetime.now(UTC))
    kinds: list[list[list[str]]] = []
    try:
        for n, play in enumerate(plays):
            user = f"UREF{n:03d}"
            kinds.append([[str(r.kind) for r in await core.handle(Inbound(
                "slack", user, text=words, display_name=f"name-{user}", channel_id=f"D{user[1:]}"))]
                for words in play])
    finally:
        await engine.dispose()
    return kinds


@dataclass
class Load:
    """What the driver saw: deliveries Slack would have retried, and the customers refused meanwhile."""

    events: int = 0
    redeliveries: int = 0
    refused: set[str] = field(default_factory=set)


class Bot:
    """The bot process, restarted on demand on the same port and config."""

    def __init__(self, config: Path, port: int) -> None:
        self.config, self.port = config, port
        self.process: BotProcess = start_bot(config, port, channels=VERBOSE_SLACK)
        self.logs: list[str] = []
        self.restarts = 0

    @property
    def events_url(self) -> str:
        return self.process.events_url

    def kill_and_restart(self) -> None:
        """SIGKILL, then start again (waiting for /healthz)."""
        self.process.process.kill()
        self.process.process.wait(10)
        self.logs.append(self.process.log.read_text(errors="replace"))
        self.process = start_bot(self.config, self.port, channels=VERBOSE_SLACK)
        self.restarts += 1

    def stop(self) -> None:
        self.process.stop()
        self.logs.append(self.process.log.read_text(errors="replace"))


class Posts:
    """The fake's stored-reply posts by DM channel, read incrementally (the load polls it constantly)."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.seen = 0
        self.counts: dict[str, int] = {}

    def refresh(self) -> None:
        calls = self.fake.calls
        end = len(calls)
        for call in calls[self.seen:end]:
            if call.method == "chat.postMessage" and call.status == 200 and _outbox_id(call) is not None:
                channel = str(call.response.get("channel"))
                self.counts[channel] = self.counts.get(channel, 0) + 1
        self.seen = end

    async def until(self, channel: str, count: int, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while self.counts.get(channel, 0) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{channel}: {self.counts.get(channel, 0)} replies after {within}s, want {count}")
            await asyncio.sleep(0.05)
            self.refresh()


def _outbox_id(call: Call) -> object:
    return ((call.params.get("metadata") or {}).get("event_payload") or {}).get("message_id")


def unique_id_posts(fake: FakeSlack) -> dict[int, int]:
    """How many times each stored message (by outbox id in the metadata) was posted."""
    counts: dict[int, int] = {}
    for call in fake.of("chat.postMessage"):
        message_id = _outbox_id(call)
        if isinstance(message_id, int):
            counts[int(message_id)] = counts.get(int(message_id), 0) + 1
    return counts


def customer_posts(fake: FakeSlack, channel: str) -> list[Call]:
    """The stored replies posted in one DM (apologies, which are not stored, left out)."""
    calls = fake.of("chat.postMessage")
    return [c for c in calls if c.response.get("channel") == channel and _outbox_id(c) is not None]


async def deliver(session: aiohttp.ClientSession, url: str, body: str, user: str, load: Load) -> None:
    """POST one event until the bot answers 200, the way Slack retries an unacknowledged event."""
    attempt = 0
    deadline = time.monotonic() + 90
    while True:
        headers = {"Content-Type": "application/json", **sign(body, SIGNING_SECRET)}
        if attempt:
            headers |= {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_error"}
        try:
            async with session.post(url, data=body, headers=headers) as response:
                if response.status == 200:
                    return
                load.refused.add(user)
        except (aiohttp.ClientError, TimeoutError):
            pass  # the bot is down: Slack delivers again later
        attempt += 1
        load.redeliveries += 1
        if time.monotonic() > deadline:
            raise AssertionError(f"{user}: an event was never acknowledged")
        await asyncio.sleep(0.25)


async def drive(fake: FakeSlack, bot: Bot, plays: list[list[str]], expected: list[list[list[str]]],
                fault: Callable[[], Coroutine[Any, Any, None]]) -> Load:
    """Every customer plays their script, waiting for each message's replies; `fault` runs meanwhile."""
    load = Load()
    gate = asyncio.Semaphore(IN_FLIGHT)
    posts = Posts(fake)

    async def customer(session: aiohttp.ClientSession, n: int) -> None:
        user, play, kinds = f"UC{n:03d}", plays[n % len(plays)], expected[n % len(plays)]
        channel, total = f"D{user[1:]}", 0
        for i, words in enumerate(play):
            body = json.dumps(dm(user, words, event_id=f"EvF{n:03d}M{i:02d}"))
            total += len(kinds[i])
            async with gate:
                await deliver(session, bot.events_url, body, user, load)
                await posts.until(channel, total)
            load.events += 1

    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:
        faults = asyncio.create_task(fault())
        await asyncio.gather(*(customer(session, n) for n in range(CUSTOMERS)))
        await faults
    await asyncio.sleep(3.0)  # anything still in flight (a late sweep, say) gets the chance to post twice
    return load


async def database_counts(url: str) -> dict[str, int]:
    """Inbound messages, claimed event ids, outbound messages unsent, and events left in the inbox."""
    engine = create_engine(url)
    queries = {
        "inbound": "select count(*) from messages where direction = 'in'",
        "claimed": "select count(*) from processed_events",
        "outbound": "select count(*) from messages where direction = 'out'",
        "unsent": "select count(*) from messages where direction = 'out' and sent_at is null",
        "pending": "select count(*) from inbound_events",
        "customers_short": "select count(*) from (select c.customer_id from messages m join conversations c "
                           "on c.id = m.conversation_id where m.direction = 'in' group by c.customer_id "
                           f"having count(*) <> {MESSAGES_EACH}) short",
    }
    try:
        async with engine.connect() as connection:
            return {name: int((await connection.execute(text(sql))).scalar_one()) for name, sql in queries.items()}
    finally:
        await engine.dispose()


def assert_exactly_once(fake: FakeSlack, counts: dict[str, int], expected: list[list[list[str]]]) -> None:
    """Every inbound stored once, every stored reply posted once, each customer's replies in script order."""
    total = CUSTOMERS * MESSAGES_EACH
    assert counts["inbound"] == total and counts["customers_short"] == 0, counts
    assert counts["claimed"] == total, counts
    assert counts["pending"] == 0 and counts["unsent"] == 0, counts
    posted = unique_id_posts(fake)
    assert len(posted) == counts["outbound"], (len(posted), counts)
    twice = {message_id: n for message_id, n in posted.items() if n != 1}
    assert twice == {}, f"posted more than once: {twice}"
    for n in range(CUSTOMERS):
        user = f"UC{n:03d}"
        got = [kind_of(c) for c in customer_posts(fake, f"D{user[1:]}")]
        want = [kind for message in expected[n % len(expected)] for kind in message]
        assert got == want, f"{user}: got {got}, want {want}"
