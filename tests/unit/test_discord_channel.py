"""The Discord channel in-process against the fake Discord, with a scripted stand-in for the hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    # The shared fakes live in tests/fakes, which is not an installed package.
    sys.path.insert(0, str(ROOT))

from bot.channels.discord import DeliveryError, DiscordChannel  # noqa: E402
from bot.config import DiscordConfig  # noqa: E402
from handlers.messages import Attachment, Button, Inbound, Kind, Reply  # noqa: E402
from tests.fakes.discord_fake import EPHEMERAL, FakeDiscord  # noqa: E402

CUSTOMER = 111000000000000001
MANAGER = 222000000000000002
RATINGS = tuple(Button(f"rate:7:{n}", str(n)) for n in range(1, 6))

Script = Callable[[Inbound], Awaitable[list[Reply]]]


class ScriptedInbox:
    """Stands in for the hub: records each inbound and delivers the script's replies."""

    def __init__(self, script: Script | None = None) -> None:
        self.inbounds: list[Inbound] = []
        self.script = script or echo
        self.channel: DiscordChannel | None = None

    async def receive(self, inbound: Inbound) -> None:
        self.inbounds.append(inbound)
        assert self.channel is not None
        for reply in await self.script(inbound):
            await self.channel.deliver(reply)


async def echo(inbound: Inbound) -> list[Reply]:
    if inbound.command == "stats" and inbound.user_id != str(MANAGER):
        return [Reply("discord", inbound.user_id, Kind.NOTICE, "Only managers can see stats.", ephemeral=True)]
    if inbound.command == "stats":
        chart = Attachment("chart.png", b"\x89PNG fake")
        return [Reply("discord", inbound.user_id, Kind.STATS, "Conversations: 3", attachments=(chart,))]
    said = inbound.text or inbound.button_id or inbound.command or ""
    return [
        Reply(
            "discord",
            inbound.user_id,
            Kind.ANSWER,
            f"you said: {said}",
            buttons=RATINGS,
            channel_id=inbound.channel_id,
            conversation_id=7,
        )
    ]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, inbox: ScriptedInbox, **options: Any) -> AsyncIterator[DiscordChannel]:
    shards = {k: options.pop(k) for k in ("shard_ids", "shard_count") if k in options}
    settings = DiscordConfig(token="fake-token", api_base=fake.api_base, gateway_url=fake.gateway_url, **options)
    channel = DiscordChannel(settings, **shards)
    inbox.channel = channel
    connected = len(fake.identifies)
    task = asyncio.create_task(channel.run(inbox))
    try:
        await fake.wait_identified(connected + (shards.get("shard_count") or 1), within=20)
        await fake.wait_connected(shards.get("shard_count") or 1, within=20)
        yield channel
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_dm_is_answered_in_the_dm_with_persistent_buttons(fake: FakeDiscord) -> None:
    inbox = ScriptedInbox()
    async with running(fake, inbox):
        sent = await fake.send_dm(CUSTOMER, "my bike won't charge")
        posted = await fake.wait_posted()
    (inbound,) = inbox.inbounds
    assert inbound.text == "my bike won't charge"
    assert inbound.event_id == f"message:{sent['id']}"
    assert posted.channel_id == fake.dm_channels[CUSTOMER]
    assert posted.content == "you said: my bike won't charge"
    assert posted.custom_ids == [f"concierge@{CUSTOMER}:rate:7:{n}" for n in range(1, 6)]


async def test_customer_text_never_pings(fake: FakeDiscord) -> None:
    async with running(fake, ScriptedInbox()):
        await fake.send_guild_message(CUSTOMER, "@everyone @here <@&1> look", mention_bot=True)
        posted = await fake.wait_posted()
    assert "@everyone" in posted.content
    assert posted.body["allowed_mentions"] == {"parse": []}


async def test_only_messages_for_the_bot_are_served(fake: FakeDiscord) -> None:
    inbox = ScriptedInbox()
    async with running(fake, inbox):
        await fake.send_guild_message(CUSTOMER, "just chatting")
        await fake.send_guild_message(CUSTOMER, "can you help?", mention_bot=True)
        posted = await fake.wait_posted()
    assert [i.text for i in inbox.inbounds] == ["can you help?"]
    assert posted.channel_id == fake.support_channel_id


async def test_support_channel_is_served_with_the_content_intent(fake: FakeDiscord) -> None:
    inbox = ScriptedInbox()
    async with running(fake, inbox, message_content_intent=True, support_channel_id=fake.support_channel_id):
        await fake.send_guild_message(CUSTOMER, "no mention needed here")
        await fake.wait_posted()
    assert fake.identifies[-1]["intents"] & (1 << 15)
    assert [i.text for i in inbox.inbounds] == ["no mention needed here"]


async def test_without_the_intent_message_content_is_not_requested(fake: FakeDiscord) -> None:
    async with running(fake, ScriptedInbox()):
        pass
    intents = fake.identifies[-1]["intents"]
    assert not intents & (1 << 15)
    assert intents & (1 << 0) and intents & (1 << 9) and intents & (1 << 12)  # guilds, guild + DM messages


async def test_button_press_is_acknowledged_by_disabling_then_forwarded(fake: FakeDiscord) -> None:
    inbox = ScriptedInbox()
    async with running(fake, inbox):
        await fake.send_dm(CUSTOMER, "hello")
        first = await fake.wait_posted()
        pressed = await fake.press(CUSTOMER, first, first.custom_id("rate:7:5"))
        ack = await fake.wait_call("POST", rf"/interactions/{pressed['id']}/")
        await fake.wait_posted(after=1)
    assert ack.body["type"] == 7  # UPDATE_MESSAGE: the acknowledgement and the edit in one call
    buttons = [c for row in ack.body["data"]["components"] for c in row["components"]]
    assert all(b["disabled"] for b in buttons)
    assert [b["style"] for b in buttons].count(3) == 1  # the pressed one is highlighted
    press = inbox.inbounds[-1]
    assert press.button_id == "rate:7:5"
    assert press.event_id == f"interaction:{pressed['id']}"
    assert press.user_id == str(CUSTOMER)


async def test_buttons_sent_before_a_restart_still_work(fake: FakeDiscord) -> None:
    async with running(fake, ScriptedInbox()):
        await fake.send_dm(CUSTOMER, "hello")
        old = await fake.wait_posted()
    inbox = ScriptedInbox()
    async with running(fake, inbox):
        await fake.press(CUSTOMER, old, old.custom_id("rate:7:4"))
        answer = await fake.wait_posted(after=1)
    assert inbox.inbounds[-1].button_id == "rate:7:4"
    assert answer.content == "you said: rate:7:4"


async def test_refusal_is_ephemeral_and_figures_come_as_embed_and_chart(fake: FakeDiscord) -> None:
    inbox = ScriptedInbox()
    async with running(fake, inbox):
        await fake.slash(CUSTOMER, "stats", {"period": "7d"})
        refusal = await fake.wait_posted()
        await fake.slash(MANAGER, "stats")
        figures = await fake.wait_posted(after=1)
    assert inbox.inbounds[0].command == "stats" and inbox.inbounds[0].args == ("7d",)
    assert refusal.via == "callback" and refusal.flags & EPHEMERAL
    assert figures.via == "callback" and not figures.flags & EPHEMERAL
    assert figures.message["embeds"][0]["description"] == "Conversations: 3"
    assert figures.message["embeds"][0]["image"]["url"] == "attachment://chart.png"
    assert [name for name, _ in figures.files] == ["chart.png"]


async def test_a_slow_core_gets_the_command_deferred_then_followed_up(fake: FakeDiscord) -> None:
    async def slow(inbound: Inbound) -> list[Reply]:
        await asyncio.sleep(0.6)
        return [Reply("discord", inbound.user_id, Kind.NOTICE, "Opted out.")]

    async with running(fake, ScriptedInbox(slow)) as channel:
        channel.pending.defer_after = 0.1
        run = await fake.slash(CUSTOMER, "optout")
        deferred = await fake.wait_call("POST", rf"/interactions/{run['id']}/")
        followup = await fake.wait_posted()
    assert deferred.body["type"] == 5 and deferred.body["data"]["flags"] & EPHEMERAL
    assert followup.via == "followup" and followup.content == "Opted out."


async def test_an_unanswered_command_is_cleared_not_left_thinking(fake: FakeDiscord) -> None:
    async def silent(inbound: Inbound) -> list[Reply]:
        return []

    async with running(fake, ScriptedInbox(silent)):
        run = await fake.slash(CUSTOMER, "help")
        await fake.wait_call("DELETE", rf"/webhooks/\d+/itoken-{run['id']}/messages/@original")


async def test_an_ephemeral_reply_without_an_interaction_goes_by_dm(fake: FakeDiscord) -> None:
    async with running(fake, ScriptedInbox()) as channel:
        await channel.deliver(
            Reply(
                "discord",
                str(CUSTOMER),
                Kind.NOTICE,
                "private",
                ephemeral=True,
                channel_id=str(fake.support_channel_id),
            )
        )
        posted = await fake.wait_posted()
    assert posted.channel_id == fake.dm_channels[CUSTOMER]


async def test_a_failed_send_is_logged_with_the_conversation_not_the_token(
    fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(fake, ScriptedInbox()) as channel:
        fake.failures.append(("POST", r"/channels/\d+/messages", 403))
        with pytest.raises(DeliveryError, match="conversation 42"):
            await channel.deliver(
                Reply("discord", str(CUSTOMER), Kind.ANSWER, "hi", channel_id="5", conversation_id=42)
            )
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("conversation 42" in r.getMessage() for r in failures)
    assert "fake-token" not in caplog.text


async def test_commands_are_published_to_configured_guilds(fake: FakeDiscord) -> None:
    async with running(fake, ScriptedInbox(), guild_ids=(fake.guild_id,)):
        pass
    put = next(c for c in fake.calls if c.method == "PUT")
    assert put.path == f"/applications/{fake.application_id}/guilds/{fake.guild_id}/commands"
    assert put.body[0]["name"] == "concierge"


async def test_endpoints_are_restored_after_the_run(fake: FakeDiscord) -> None:
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with running(fake, ScriptedInbox()):
        assert fake.api_base == Route.BASE
    assert (base, gateway) == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


async def test_shards_each_identify_and_serve(fake: FakeDiscord) -> None:
    inbox = ScriptedInbox()
    async with running(fake, inbox, shard_count=2):
        await fake.send_guild_message(CUSTOMER, "sharded hello", mention_bot=True)
        await fake.send_dm(CUSTOMER, "dm via shard 0")
        await fake.wait_posted(after=1)
    assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
    assert {i.text for i in inbox.inbounds} == {"sharded hello", "dm via shard 0"}


async def test_running_without_a_token_fails_clearly() -> None:
    with pytest.raises(ValueError, match="DISCORD_TOKEN"):
        await DiscordChannel(DiscordConfig()).run(ScriptedInbox())


async def test_a_reply_to_the_desk_goes_to_the_desk_channel(fake: FakeDiscord) -> None:
    async with running(fake, ScriptedInbox(), desk_channel_id=fake.desk_channel_id) as channel:
        await channel.deliver(Reply("discord", "desk", Kind.HANDOFF, "Ada needs a person", conversation_id=3))
        posted = await fake.wait_posted()
    assert posted.channel_id == fake.desk_channel_id
    assert posted.body["allowed_mentions"] == {"parse": []}


async def test_a_rejected_token_is_a_one_line_error(fake: FakeDiscord) -> None:
    fake.failures.append(("GET", r"^/users/@me$", 401))
    settings = DiscordConfig(token="fake-token", api_base=fake.api_base, gateway_url=fake.gateway_url)
    with pytest.raises(ValueError, match="rejected the token") as error:
        await asyncio.wait_for(DiscordChannel(settings).run(ScriptedInbox()), 10)
    assert "fake-token" not in str(error.value)


async def test_an_unreachable_discord_is_a_one_line_error() -> None:
    settings = DiscordConfig(token="fake-token", api_base="http://127.0.0.1:9/api/v10")
    with pytest.raises(ValueError, match="cannot reach Discord at http://127\\.0\\.0\\.1:9/api/v10"):
        await asyncio.wait_for(DiscordChannel(settings).run(ScriptedInbox()), 10)
