"""Point discord.py at another REST base and gateway (a fake in tests, a proxy in production).

discord.py keeps both as class attributes (`http.Route.BASE`, `DiscordWebSocket.DEFAULT_GATEWAY`),
so they are process-wide: set while a channel runs and restored afterwards, never at import.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

DISCORD_API_BASE = "https://discord.com/api/v10"


@contextlib.contextmanager
def discord_endpoints(api_base: str, gateway_url: str | None) -> Iterator[None]:
    """Use `api_base` for REST (webhooks and interaction callbacks too) and `gateway_url` for the gateway."""
    saved_base, saved_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = api_base.rstrip("/")
    if gateway_url:
        # Used for the first connection and again after an invalidated session.
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved_base, saved_gateway


def pin_bot_gateway(http: discord.http.HTTPClient, gateway_url: str | None) -> None:
    """Make `GET /gateway/bot` report `gateway_url`, which the sharded client connects to."""
    if not gateway_url:
        return
    original = http.get_bot_gateway

    async def get_bot_gateway() -> tuple[int, str, Any]:
        shards, _, limits = await original()
        return shards, gateway_url, limits

    http.get_bot_gateway = get_bot_gateway  # type: ignore[method-assign]
