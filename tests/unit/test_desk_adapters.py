"""Desk addressing: a `Reply(to="desk")` reaches the configured desk channel; the policy names the desks."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bot.channels.slack import SlackChannel
from bot.config import Config, DiscordConfig, SlackConfig
from bot.wiring import desk_platforms
from handlers.messages import DESK, Button, Kind, Reply


class RecordingClient:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []

    async def chat_postMessage(self, **params: Any) -> dict[str, Any]:
        self.posts.append(params)
        return {"channel": params["channel"]}


def slack(**extra: Any) -> tuple[SlackChannel, RecordingClient]:
    channel = SlackChannel(SlackConfig(bot_token=SecretStr("xoxb-1"), signing_secret=SecretStr("s"), **extra))
    client = RecordingClient()
    channel.client = client  # type: ignore[assignment]
    return channel, client


async def test_a_desk_reply_goes_to_the_slack_desk_channel() -> None:
    channel, client = slack(desk_channel="CDESK")
    card = Reply("slack", DESK, Kind.NOTICE, "Ticket 3", (Button("claim:3:go", "Claim ticket"),))
    await channel.deliver(card)
    [post] = client.posts
    assert post["channel"] == "CDESK" and post["text"].startswith("Ticket 3")
    assert "claim:3:go" in str(post["blocks"])


async def test_without_a_slack_desk_channel_nothing_is_posted() -> None:
    channel, client = slack()
    await channel.deliver(Reply("slack", DESK, Kind.NOTICE, "Ticket 3"))
    assert client.posts == []


def test_desk_platforms_follow_the_config() -> None:
    assert desk_platforms(Config()) == ("console",)
    configured = Config(slack=SlackConfig(desk_channel="CDESK"), discord=DiscordConfig(desk_channel_id=42))
    assert desk_platforms(configured) == ("slack", "discord", "console")
