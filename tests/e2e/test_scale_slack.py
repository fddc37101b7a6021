"""Three `concierge run slack` processes on one PostgreSQL database, 1,000 events, 20% retried elsewhere.

Each customer talks like a person: the next message only after the bot answered the last one (Slack
itself does not order deliveries that are in flight at once). Every event goes to a random process; a
fifth of them is delivered again (`X-Slack-Retry-Num: 1`, same event id) to another process, half at
the same moment as the original and half after it was answered. The reply kinds each customer must
get are taken from the same scripts run once through the core in this process (on SQLite); the three
processes must give each customer exactly that sequence: one reply set per event, none twice, in order.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from storage.database import create_engine
from tests.e2e.reliability.harness import reference_kinds
from tests.e2e.slack.slack_harness import BotProcess, bot_environment, concierge_command, kind_of, start_bot
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, Call, FakeSlack
from tests.fakes.slack_requests import dm, free_port, sign
from tests.support.databases import fresh_postgres_database, skip_without_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PROCESSES = 3
CUSTOMERS = 100
MESSAGES_EACH = 10
RETRY_SHARE = 0.2
IN_FLIGHT = 16
QUESTIONS = (
    "how far can I go on one charge?", "my battery won't charge", "where is my order?",
    "how do I book a repair?", "I have a flat tyre", "the brakes squeak when I stop",
    "can I return the bike?", "how long is the warranty?", "my order hasn't arrived and I'm annoyed",
    "do you sell helmets?", "thanks, that helped", "the app won't pair with the bike",
)
ANSWERS = ("yes", "no", "yes", "5", "thanks")


def scripts(seed: int = 9, count: int = 10) -> list[list[str]]:
    """A handful of conversations of `MESSAGES_EACH` messages: questions, then answers to what was asked."""
    rng = random.Random(seed)
    return [[rng.choice(QUESTIONS) if i % 2 == 0 or rng.random() < 0.3 else rng.choice(ANSWERS)
             for i in range(MESSAGES_EACH)] for _ in range(count)]


def write_config(directory: Path, url: str, api_url: str, port: int, cache_dir: Path) -> Path:
    path = directory / f"concierge-{port}.toml"
    path.write_text("\n".join([
        "[database]", f'url = "{url}"', "",
        "[understanding]", f'cache_dir = "{cache_dir}"', "",
        "[slack]", f'api_url = "{api_url}"', f'bot_token = "{BOT_TOKEN}"', 'host = "127.0.0.1"',
        f"port = {port}", f'signing_secret = "{SIGNING_SECRET}"', "",
    ]))
    return path


async def claimed_events(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text("select count(*) from processed_events"))).scalar_one())
    finally:
        await engine.dispose()


class Late(AssertionError):
    """A DM channel's replies did not all come in time."""

    def __init__(self, channel: str, message: str) -> None:
        super().__init__(message)
        self.channel = channel


async def stored_messages(url: str, channel: str) -> str:
    """The customer's stored messages, a line each: was a missing reply never written, or written and not sent?"""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text(
                "select m.id, m.direction, m.kind, m.created_at, m.sent_at from messages m"
                " join conversations c on c.id = m.conversation_id join customers u on u.id = c.customer_id"
                " where u.key = :key order by m.id"), {"key": f"slack:U{channel[1:]}"})
            return "\n".join(" ".join(str(value) for value in row) for row in rows)
    finally:
        await engine.dispose()


class Replies:
    """The fake's chat.postMessage calls, grouped by DM channel, read incrementally."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.seen = 0
        self.by_channel: dict[str, list[Call]] = {}

    def refresh(self) -> None:
        # The fake appends from its own thread: read up to one length, and resume from that same length
        # (taking len() twice skipped any call appended in between, and its customer waited forever).
        calls, end = self.fake.calls, len(self.fake.calls)
        for call in calls[self.seen:end]:
            if call.method == "chat.postMessage" and call.status == 200:
                self.by_channel.setdefault(str(call.response.get("channel")), []).append(call)
        self.seen = end

    def count(self, channel: str) -> int:
        return len(self.by_channel.get(channel, []))

    async def until(self, channel: str, count: int, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while self.count(channel) < count:
            if time.monotonic() > deadline:
                raise Late(channel, f"{channel}: {self.count(channel)} replies after {within}s, want {count}")
            await asyncio.sleep(0.02)
            self.refresh()


async def post(session: aiohttp.ClientSession, bot: BotProcess, body: str, retry: bool) -> None:
    headers = {"Content-Type": "application/json", **sign(body, SIGNING_SECRET)}
    if retry:
        headers |= {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    async with session.post(bot.events_url, data=body, headers=headers) as response:
        assert response.status == 200, await response.text()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


async def test_three_processes_answer_each_event_once_in_order(
    fake: FakeSlack, tmp_path: Path, model_cache: Path
) -> None:
    await skip_without_postgres()
    started = time.monotonic()
    plays = scripts()
    cache = model_cache  # the run's shared model cache: trained once, by whichever test needs it first
    async with fresh_postgres_database() as url:
        ports = [free_port() for _ in range(PROCESSES)]
        configs = [write_config(tmp_path, url, fake.api_url, port, cache) for port in ports]
        await asyncio.to_thread(
            subprocess.run, [*concierge_command(), "db", "upgrade", "--config", str(configs[0])], check=True,
            env=bot_environment(), cwd=tmp_path, timeout=60, capture_output=True)
        expected = await reference_kinds(configs[0], tmp_path, plays)  # also trains the shared model cache
        bots = await asyncio.gather(*(asyncio.to_thread(start_bot, c, p, verbose=True)
                                    for c, p in zip(configs, ports, strict=True)))
        try:
            ready = time.monotonic()
            replies, stats = await drive(fake, bots, plays, expected)
            finished = time.monotonic()
            stats["claimed"] = await claimed_events(url)
        except Late as late:
            raise AssertionError(f"{late}; stored:\n{await stored_messages(url, late.channel)}") from late
        finally:
            for bot in bots:
                bot.stop()
            logs = "\n".join(f"--- {bot.log.name}\n{bot.log.read_text(errors='replace')}" for bot in bots)
            print(logs[-20000:])  # pytest shows it when the test fails
    assert "Traceback" not in logs, logs[-4000:]
    assert stats["retries"] == CUSTOMERS * MESSAGES_EACH * RETRY_SHARE
    assert not [kinds for play in expected for kinds in play if not kinds], "every scripted message gets a reply"
    assert stats["claimed"] == CUSTOMERS * MESSAGES_EACH, "each event id recorded once, retries dropped"
    replies.refresh()
    for n in range(CUSTOMERS):
        user = f"UC{n:03d}"
        got = [kind_of(c) for c in replies.by_channel.get(f"D{user[1:]}", [])]
        want = [kind for message in expected[n % len(plays)] for kind in message]
        assert got == want, f"{user}: got {got}, want {want}"
    print(f"\n{stats['events']} events + {stats['retries']} retries to {PROCESSES} processes: "
          f"{stats['events'] / (finished - ready):.1f} events/s, {finished - ready:.1f}s driving, "
          f"{finished - started:.1f}s in all")


async def drive(
    fake: FakeSlack, bots: list[BotProcess], plays: list[list[str]], expected: list[list[list[str]]]
) -> tuple[Replies, dict[str, int]]:
    rng = random.Random(42)
    events = [(n, i) for n in range(CUSTOMERS) for i in range(MESSAGES_EACH)]
    retried = set(rng.sample(events, round(len(events) * RETRY_SHARE)))
    replies = Replies(fake)
    gate = asyncio.Semaphore(IN_FLIGHT)
    stats = {"events": 0, "retries": 0}

    async def customer(session: aiohttp.ClientSession, n: int) -> None:
        user, play, kinds = f"UC{n:03d}", plays[n % len(plays)], expected[n % len(plays)]
        channel, total = f"D{user[1:]}", 0
        for i, words in enumerate(play):
            body = json.dumps(dm(user, words, event_id=f"EvC{n:03d}M{i:02d}"))
            first = rng.randrange(len(bots))
            other = (first + rng.randrange(1, len(bots))) % len(bots)
            retry = (n, i) in retried
            together = rng.random() < 0.5
            total += len(kinds[i])
            async with gate:
                sends = [post(session, bots[first], body, False)]
                if retry and together:
                    sends.append(post(session, bots[other], body, True))
                await asyncio.gather(*sends)
                await replies.until(channel, total)
                if retry and not together:
                    await post(session, bots[other], body, True)
            stats["events"] += 1
            stats["retries"] += retry

    connector = aiohttp.TCPConnector(limit=IN_FLIGHT * 2)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        await asyncio.gather(*(customer(session, n) for n in range(CUSTOMERS)))
    # Late retries and anything else still in flight: give them time to (wrongly) post.
    await asyncio.sleep(2.0)
    return replies, stats
