"""`concierge run slack discord` in one process: a customer on one platform is served from the other's desk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.discord.harness import AGENT as DISCORD_AGENT
from tests.e2e.discord.harness import CUSTOMER as DISCORD_CUSTOMER
from tests.e2e.discord.harness import discord_section
from tests.e2e.slack.slack_harness import BotProcess, kind_of, post_with, start_bot, write_config
from tests.fakes.discord_fake import FakeDiscord, Posted
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_requests import dm, free_port

pytestmark = pytest.mark.e2e

SLACK_DESK = "CDESK"
SLACK_AGENT = "UAGENT"
WITHIN = 30.0
AGENTS = (f"slack:{SLACK_AGENT}", f"discord:{DISCORD_AGENT}")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as running:
        yield running


@contextlib.asynccontextmanager
async def both_channels(
    slack: FakeSlack, discord: FakeDiscord, workdir: Path, cache: Path, *, discord_desk: bool
) -> AsyncIterator[BotProcess]:
    """One bot process running Slack and Discord against the two fakes; Slack's desk always configured."""
    port = free_port()
    config = write_config(workdir, slack, port=port, cache_dir=cache, agents=AGENTS, desk_channel=SLACK_DESK,
                          extra=discord_section(discord, desk=discord_desk))
    # Blocking calls go to a thread: the fake Discord serves from this test's event loop.
    bot = await asyncio.to_thread(start_bot, config, port, channels=("slack", "discord"))
    try:
        await discord.wait_connected(within=WITHIN)
        yield bot
    finally:
        await asyncio.to_thread(bot.stop)


async def slack_post(slack: FakeSlack, channel: str, predicate: Callable[[Call], bool]) -> Call:
    return await asyncio.to_thread(post_with, slack, channel, predicate, WITHIN)


def in_dm(discord: FakeDiscord, user: int) -> Callable[[Posted], bool]:
    return lambda p: p.channel_id == discord.dm_channels.get(user)


async def test_a_discord_customer_is_served_from_the_slack_desk(
    slack: FakeSlack, discord: FakeDiscord, tmp_path: Path, model_cache: Path
) -> None:
    async with both_channels(slack, discord, tmp_path, model_cache, discord_desk=False) as bot:
        await discord.send_dm(DISCORD_CUSTOMER, "can I talk to a person")
        handoff = await discord.wait_posted(where=in_dm(discord, DISCORD_CUSTOMER), within=WITHIN)
        assert "person" in handoff.content

        card = await slack_post(slack, SLACK_DESK, lambda c: c.params["text"].startswith("Ticket 1"))
        assert f"discord:{DISCORD_CUSTOMER}" in card.params["text"] and "on discord" in card.params["text"]
        await asyncio.to_thread(bot.press, SLACK_AGENT, card, "claim:1:go")
        await slack_post(slack, SLACK_DESK, lambda c: "claimed ticket 1" in c.params["text"])

        # Discord customer -> Slack desk.
        await discord.send_dm(DISCORD_CUSTOMER, "it was due on Monday")
        await slack_post(slack, SLACK_DESK, lambda c: "it was due on Monday" in c.params["text"])

        # Slack desk -> Discord customer, marked as a person's words, confirmed in the Slack desk.
        words = "Hi, I'm checking with the courier now."
        mark = len(discord.posted)
        await asyncio.to_thread(bot.command, SLACK_AGENT, f"reply 1 {words}", SLACK_DESK)
        relayed = await discord.wait_posted(after=mark, where=in_dm(discord, DISCORD_CUSTOMER), within=WITHIN)
        assert relayed.content.endswith(words) and "person" in relayed.content
        await slack_post(slack, SLACK_DESK, lambda c: c.params["text"].startswith("Sent to") and words in
                         c.params["text"])

        await asyncio.to_thread(bot.command, SLACK_AGENT, "note 1 courier says Tuesday", SLACK_DESK)
        await slack_post(slack, SLACK_DESK, lambda c: "courier says Tuesday" in c.params["text"])
        mark = len(discord.posted)
        await asyncio.to_thread(bot.command, SLACK_AGENT, "release 1", SLACK_DESK)
        back = await discord.wait_posted(after=mark, where=in_dm(discord, DISCORD_CUSTOMER), within=WITHIN)
        assert "back with the assistant" in back.content and back.custom_ids[-1].endswith(":5")

        mark = len(discord.posted)
        await discord.press(DISCORD_CUSTOMER, back, back.custom_ids[-1])
        await discord.wait_posted(after=mark, where=in_dm(discord, DISCORD_CUSTOMER), within=WITHIN)
        await discord.wait_quiet()
        seen = [p for p in discord.posted if in_dm(discord, DISCORD_CUSTOMER)(p)]
        assert not any("courier says Tuesday" in p.content for p in seen), "a note reached the customer"
        # Nothing of the desk was posted on Discord: there is no Discord desk in this run.
        assert {p.channel_id for p in discord.posted} == {discord.dm_channels[DISCORD_CUSTOMER]}


async def test_each_platform_serves_the_others_customer(
    slack: FakeSlack, discord: FakeDiscord, tmp_path: Path, model_cache: Path
) -> None:
    async with both_channels(slack, discord, tmp_path, model_cache, discord_desk=True) as bot:
        # A Slack customer: the card goes to the Slack desk, a Discord agent takes the ticket.
        await asyncio.to_thread(bot.post_event, dm("UCUST1", "can I talk to a person"))
        await slack_post(slack, SLACK_DESK, lambda c: c.params["text"].startswith("Ticket 1"))
        await discord.slash(DISCORD_AGENT, "claim", {"ticket": "1"})
        await discord.wait_posted(where=lambda p: p.channel_id == discord.desk_channel_id
                                  and "claimed ticket 1" in p.content, within=WITHIN)
        await asyncio.to_thread(bot.post_event, dm("UCUST1", "is anyone there?"))
        await discord.wait_posted(where=lambda p: p.channel_id == discord.desk_channel_id
                                  and "is anyone there?" in p.content, within=WITHIN)
        await discord.slash(DISCORD_AGENT, "reply", {"text": "1 Yes, I'm here."})
        words = await slack_post(slack, "DCUST1", lambda c: kind_of(c) == "agent")
        assert words.params["text"] == "Yes, I'm here."

        # A Discord customer: the card goes to the Discord desk, a Slack agent takes the ticket.
        await discord.send_dm(DISCORD_CUSTOMER, "can I talk to a person")
        await discord.wait_posted(where=lambda p: p.channel_id == discord.desk_channel_id
                                  and p.content.startswith("Ticket 2"), within=WITHIN)
        await asyncio.to_thread(bot.command, SLACK_AGENT, "claim 2", SLACK_DESK)
        await slack_post(slack, SLACK_DESK, lambda c: "claimed ticket 2" in c.params["text"])
        mark = len(discord.posted)
        await asyncio.to_thread(bot.command, SLACK_AGENT, "release 2", SLACK_DESK)
        back = await discord.wait_posted(after=mark, where=in_dm(discord, DISCORD_CUSTOMER), within=WITHIN)
        assert "back with the assistant" in back.content
        await slack_post(slack, SLACK_DESK, lambda c: "released ticket 2" in c.params["text"])
        # The Slack agent's acts on ticket 2 were shown in the Slack desk, where they work, not on Discord's.
        assert not any("ticket 2" in p.content and "claimed" in p.content for p in discord.posted)
