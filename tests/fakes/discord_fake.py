"""A fake Discord on 127.0.0.1: gateway websocket and REST API in one aiohttp app.

It speaks just enough of API v10 for discord.py 2.x: HELLO → IDENTIFY → READY → GUILD_CREATE, heartbeat
ACKs, RESUME, and the REST routes a bot uses to log in, publish commands, send and edit messages,
open DMs and answer interactions. Every REST call is recorded; everything the bot posts (channel
messages, interaction responses, followups) is also kept as a `Posted`, in order.
Gateway frames are sent as uncompressed text, which discord.py accepts whatever `compress` it asked for.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from tests.fakes.discord_records import API_PREFIX, DISCORD_EPOCH_MS, EPHEMERAL, Posted, RestCall
from tests.fakes.discord_rest import DiscordRestRoutes, _now

__all__ = ["API_PREFIX", "EPHEMERAL", "FakeDiscord", "Posted", "RestCall"]

_T = TypeVar("_T")


class _Conn:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0
        self.shard: tuple[int, int] = (0, 1)
        self.identified = False


class FakeDiscord(DiscordRestRoutes):
    """The fake server; `await start()`, point the bot at `api_base` and `gateway_url`, then drive it."""

    # fmt: off
    def __init__(self, *, bot_id: int = 900000000000000001, application_id: int = 900000000000000002,
                 guild_id: int = 900000000000000003, support_channel_id: int = 900000000000000004,
                 desk_channel_id: int = 900000000000000005, heartbeat_ms: int = 41250) -> None:
        # fmt: on
        self.bot_id, self.application_id, self.guild_id = bot_id, application_id, guild_id
        self.support_channel_id, self.desk_channel_id = support_channel_id, desk_channel_id
        self.heartbeat_ms = heartbeat_ms
        self.calls: list[RestCall] = []
        self.posted: list[Posted] = []
        self.identifies: list[dict[str, Any]] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.threads: dict[int, dict[str, Any]] = {}  # thread id (= its starter message's id) -> channel
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self._dm_users: dict[int, int] = {}  # DM channel id -> user id
        self.interactions: dict[int, dict[str, Any]] = {}  # id -> INTERACTION_CREATE payload
        self.interaction_users: dict[int, int] = {}
        # Called with every Posted as it is recorded (benchmarks time replies with it).
        self.on_post: Callable[[Posted], None] | None = None
        # (method, path regex, status): the next matching REST call fails once with that status.
        self.failures: list[tuple[str, str, int]] = []
        self._conns: list[_Conn] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self.port = 0

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for conn in list(self._conns):
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---- ids and objects -----------------------------------------------------------------------

    # fmt: off
    # Payloads are kept one field group a line: the formatter would give each field its own line.
    def snowflake(self) -> int:
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._ids) & 0x3FFFFF)

    def user(self, user_id: int, name: str | None = None, *, bot: bool = False) -> dict[str, Any]:
        name = name or f"user{user_id % 10000}"
        return {"id": str(user_id), "username": name, "global_name": name.title(), "discriminator": "0",
                "avatar": None, "bot": bot, "public_flags": 0}

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.user(self.bot_id, "concierge", bot=True) | {"verified": True, "mfa_enabled": False, "flags": 0}

    def _member(self, user_id: int) -> dict[str, Any]:
        return {"user": self.user(user_id), "roles": [], "joined_at": _now(), "deaf": False, "mute": False,
                "flags": 0, "permissions": "2147483647", "nick": None}

    def _channel(self, channel_id: int, name: str) -> dict[str, Any]:
        return {"id": str(channel_id), "type": 0, "name": name, "position": 0, "guild_id": str(self.guild_id),
                "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                "last_message_id": None, "rate_limit_per_user": 0}

    def _guild(self) -> dict[str, Any]:
        everyone = {"id": str(self.guild_id), "name": "@everyone", "permissions": "2147483647", "position": 0,
                    "color": 0, "hoist": False, "managed": False, "mentionable": False}
        return {
            "id": str(self.guild_id), "name": "Fake Guild", "icon": None, "owner_id": "1", "region": None,
            "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0, "mfa_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "features": [], "emojis": [],
            "stickers": [], "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
            "vanity_url_code": None, "description": None, "banner": None, "premium_tier": 0, "nsfw_level": 0,
            "preferred_locale": "en-US", "public_updates_channel_id": None, "roles": [everyone],
            "member_count": 3, "large": False, "unavailable": False, "joined_at": _now(),
            "channels": [self._channel(self.support_channel_id, "support"),
                         self._channel(self.desk_channel_id, "desk")],
            "threads": list(self.threads.values()), "members": [self._member(self.bot_id)], "voice_states": [],
            "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
        }

    def _dm_channel(self, user_id: int) -> dict[str, Any]:
        if user_id not in self.dm_channels:
            channel_id = self.snowflake()
            self.dm_channels[user_id] = channel_id
            self._dm_users[channel_id] = user_id
        return {"id": str(self.dm_channels[user_id]), "type": 1, "recipients": [self.user(user_id)],
                "last_message_id": None}

    def _message(self, channel_id: int, author: dict[str, Any], body: dict[str, Any], *,
                 files: list[tuple[str, bytes]] | None = None, flags: int = 0, **extra: Any) -> dict[str, Any]:
        message_id = self.snowflake()
        url = f"http://127.0.0.1:{self.port}/attachments/"
        attachments = [{"id": str(self.snowflake()), "filename": name, "size": len(data), "url": url + name,
                        "proxy_url": url + name, "content_type": "image/png" if name.endswith(".png") else None}
                       for name, data in files or []]
        message = {
            "id": str(message_id), "channel_id": str(channel_id), "author": author,
            "content": body.get("content") or "", "timestamp": _now(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": attachments,
            "embeds": body.get("embeds") or [], "pinned": False, "type": 0,
            "components": body.get("components") or [], "flags": flags | int(body.get("flags") or 0),
        } | extra
        self.messages[message_id] = message
        return message

    def _ready(self, conn: _Conn) -> dict[str, Any]:
        return {"v": 10, "user": self.bot_user, "guilds": [{"id": str(self.guild_id), "unavailable": True}],
                "session_id": f"session-{self.snowflake()}", "resume_gateway_url": self.gateway_url,
                "application": {"id": str(self.application_id), "flags": 0}, "shard": list(conn.shard),
                "private_channels": [], "relationships": [], "user_settings": {}, "presences": [],
                "guild_join_requests": [], "geo_ordered_rtc_regions": []}

    def _interaction(self, user_id: int, kind: int, data: dict[str, Any], channel_id: int | None,
                     guild: bool) -> dict[str, Any]:
        interaction_id = self.snowflake()
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(self.application_id), "type": kind,
            "token": f"itoken-{interaction_id}", "version": 1, "data": data, "locale": "en-US",
            "app_permissions": "2147483647", "entitlements": [], "attachment_size_limit": 8 * 1024 * 1024,
            "authorizing_integration_owners": {"0": str(self.guild_id)} if guild else {"1": str(user_id)},
            "context": 0 if guild else 1,
        }
        if guild:
            channel = channel_id or self.support_channel_id
            payload |= {"guild_id": str(self.guild_id), "member": self._member(user_id), "guild_locale": "en-US",
                        "channel_id": str(channel), "channel": self._channel(channel, "support"),
                        "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []}}
        else:
            dm = self._dm_channel(user_id)
            payload |= {"user": self.user(user_id), "channel_id": dm["id"], "channel": dm}
        self.interaction_users[interaction_id] = user_id
        self.interactions[interaction_id] = payload
        return payload

    def _gateway_bot(self) -> dict[str, Any]:
        return {"url": self.gateway_url, "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}}

    def _application(self) -> dict[str, Any]:
        return {"id": str(self.application_id), "name": "Concierge", "icon": None, "description": "",
                "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False, "owner": self.user(1),
                "summary": "", "verify_key": "00", "team": None, "flags": 0}

    def _command(self, command: dict[str, Any]) -> dict[str, Any]:
        return command | {"id": str(self.snowflake()), "application_id": str(self.application_id), "version": "1",
                          "type": command.get("type", 1), "default_member_permissions": None,
                          "dm_permission": True, "nsfw": False}
    # fmt: on

    # ---- gateway -------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        conn = _Conn(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}, "s": None, "t": None})
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                await self._on_gateway_frame(conn, json.loads(frame.data))
        finally:
            if conn in self._conns:
                self._conns.remove(conn)
            await self._notify()
        return ws

    async def _on_gateway_frame(self, conn: _Conn, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        if op == 1:
            await conn.ws.send_json({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            data: dict[str, Any] = payload["d"]
            self.identifies.append(data)
            await self._notify()
            shard = data.get("shard") or [0, 1]
            conn.shard = (int(shard[0]), int(shard[1]))
            await self._send(conn, "READY", self._ready(conn))
            if self._owns(conn, self.guild_id):
                await self._send(conn, "GUILD_CREATE", self._guild())
            self._identified(conn)
        elif op == 6:
            await self._send(conn, "RESUMED", {})
            self._identified(conn)

    def _identified(self, conn: _Conn) -> None:
        conn.identified = True
        self._conns.append(conn)
        task = asyncio.ensure_future(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _owns(conn: _Conn, guild_id: int | None) -> bool:
        shard_id, count = conn.shard
        return (0 if guild_id is None else (guild_id >> 22) % count) == shard_id

    async def _send(self, conn: _Conn, event: str, data: dict[str, Any]) -> None:
        conn.seq += 1
        await conn.ws.send_json({"op": 0, "t": event, "s": conn.seq, "d": data})

    async def wait_connected(self, count: int = 1, within: float = 30.0) -> None:
        """Wait until `count` gateway sessions have identified (or resumed)."""
        await self._wait(lambda: len([c for c in self._conns if c.identified]) >= count or None, within)

    async def wait_identified(self, count: int, within: float = 30.0) -> None:
        """Wait until `count` IDENTIFY payloads have arrived in total."""
        await self._wait(lambda: len(self.identifies) >= count or None, within)

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None = None) -> None:
        """Send a dispatch to the session(s) of the shard that owns `guild_id` (shard 0 for DMs)."""
        await self.wait_connected()
        for conn in list(self._conns):
            if conn.identified and self._owns(conn, guild_id):
                await self._send(conn, event, data)

    # ---- what users do -------------------------------------------------------------------------

    async def send_dm(self, user_id: int, content: str) -> dict[str, Any]:
        """Have a user DM the bot; returns the MESSAGE_CREATE payload."""
        channel_id = int(self._dm_channel(user_id)["id"])
        message = self._message(channel_id, self.user(user_id), {"content": content})
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    async def send_guild_message(
        self, user_id: int, content: str, *, channel_id: int | None = None, mention_bot: bool = False
    ) -> dict[str, Any]:
        """Have a user write in a guild channel, optionally mentioning the bot first."""
        text = f"<@{self.bot_id}> {content}" if mention_bot else content
        mentions = [self.bot_user] if mention_bot else []
        message = self._message(
            channel_id or self.support_channel_id,
            self.user(user_id),
            {"content": text},
            guild_id=str(self.guild_id),
            mentions=mentions,
            member={k: v for k, v in self._member(user_id).items() if k != "user"},
        )
        await self.dispatch("MESSAGE_CREATE", message, guild_id=self.guild_id)
        return message

    async def press(self, user_id: int, message: dict[str, Any] | Posted, custom_id: str) -> dict[str, Any]:
        """Have a user press a button of a message the bot sent; returns the INTERACTION_CREATE payload."""
        if isinstance(message, Posted):
            message = message.message
        guild = message.get("guild_id") is not None or int(message["channel_id"]) in (
            self.support_channel_id,
            self.desk_channel_id,
        )
        payload = self._interaction(
            user_id,
            3,
            {"custom_id": custom_id, "component_type": 2},
            int(message["channel_id"]) if guild else None,
            guild,
        )
        payload["message"] = message
        await self.dispatch("INTERACTION_CREATE", payload, guild_id=self.guild_id if guild else None)
        return payload

    async def slash(
        self,
        user_id: int,
        subcommand: str,
        options: dict[str, str] | None = None,
        *,
        guild: bool = True,
        group: str = "concierge",
    ) -> dict[str, Any]:
        """Have a user run `/<group> <subcommand> [options]`; returns the INTERACTION_CREATE payload."""
        sub = {
            "name": subcommand,
            "type": 1,
            "options": [{"name": k, "type": 3, "value": v} for k, v in (options or {}).items()],
        }
        data = {"id": str(self.snowflake()), "name": group, "type": 1, "options": [sub]}
        if guild:
            data["guild_id"] = str(self.guild_id)
        payload = self._interaction(user_id, 2, data, None, guild)
        await self.dispatch("INTERACTION_CREATE", payload, guild_id=self.guild_id if guild else None)
        return payload

    # ---- waiting on what the bot did -----------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, found: Callable[[], _T | None], within: float) -> _T:
        async def until() -> _T:
            async with self._changed:
                while (result := found()) is None:
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(until(), within)

    async def wait_call(self, method: str, pattern: str, *, after: int = 0, within: float = 20.0) -> RestCall:
        """Wait for a REST call whose path matches `pattern` (a regex), among calls from index `after`."""
        regex = re.compile(pattern)
        return await self._wait(
            lambda: next((c for c in self.calls[after:] if c.method == method and regex.search(c.path)), None),
            within,
        )

    async def wait_posted(
        self, *, after: int = 0, where: Callable[[Posted], object] | None = None, within: float = 20.0
    ) -> Posted:
        """Wait for the first message posted from index `after` for which `where(posted)` holds."""
        return await self._wait(
            lambda: next((p for p in self.posted[after:] if where is None or where(p)), None), within
        )

    async def wait_quiet(self, seconds: float = 0.5, within: float = 20.0) -> None:
        """Wait until the bot has made no REST call for `seconds`."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            count = len(self.calls)
            await asyncio.sleep(seconds)
            if len(self.calls) == count:
                return
        raise TimeoutError("the bot kept calling")
