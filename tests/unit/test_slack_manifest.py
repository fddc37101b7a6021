"""The Slack app manifest asks for what the adapter uses, and agrees with the config's defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import SlackConfig

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def test_scopes_and_events(manifest: dict[str, Any]) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "im:history", "app_mentions:read", "users:read", "files:write", "commands",
            "im:write", "channels:history", "groups:history"} <= scopes
    # Channel message events carry agents' replies in a desk card's thread; nothing else is read from them.
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "message.im", "app_mention", "message.channels", "message.groups"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert "socket_mode_enabled" in manifest["settings"]


def test_slash_command_and_urls_match_the_adapter(manifest: dict[str, Any]) -> None:
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == SlackConfig().command
    urls = [command["url"], manifest["settings"]["event_subscriptions"]["request_url"],
            manifest["settings"]["interactivity"]["request_url"]]
    assert all(url.endswith("/slack/events") for url in urls)
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
