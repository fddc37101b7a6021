"""The REST half of the fake Discord: record each call, fail on demand, answer like API v10."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.discord_records import EPHEMERAL, Posted, RestCall


class DiscordRestRoutes:
    """REST routes, mixed into FakeDiscord (which owns the state they read and write)."""

    # The state and helpers of FakeDiscord these routes use, declared here for the type checker.
    bot_id: int
    application_id: int
    guild_id: int
    calls: list[RestCall]
    posted: list[Posted]
    messages: dict[int, dict[str, Any]]
    threads: dict[int, dict[str, Any]]
    _dm_users: dict[int, int]
    interactions: dict[int, dict[str, Any]]
    interaction_users: dict[int, int]
    on_post: Callable[[Posted], None] | None
    failures: list[tuple[str, str, int]]

    if TYPE_CHECKING:

        @property
        def bot_user(self) -> dict[str, Any]: ...
        def user(self, user_id: int, name: str | None = None, *, bot: bool = False) -> dict[str, Any]: ...
        def _dm_channel(self, user_id: int) -> dict[str, Any]: ...
        def _message(self, channel_id: int, author: dict[str, Any], body: dict[str, Any], *,
                     files: list[tuple[str, bytes]] | None = None, flags: int = 0,
                     **extra: Any) -> dict[str, Any]: ...
        def _gateway_bot(self) -> dict[str, Any]: ...
        def _application(self) -> dict[str, Any]: ...
        def _command(self, command: dict[str, Any]) -> dict[str, Any]: ...
        async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None = None) -> None: ...
        async def _notify(self) -> None: ...

    # ---- REST ----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await _read_body(request)
        call = RestCall(request.method, path, dict(request.query), body, files)
        self.calls.append(call)
        for index, (method, pattern, status) in enumerate(self.failures):
            if method == call.method and re.search(pattern, path):
                del self.failures[index]
                await self._notify()
                return _json({"message": "Missing Access (fake)", "code": 50001}, status=status)
        try:
            response = await self._route(call)
        finally:
            await self._notify()
        return response

    async def _route(self, call: RestCall) -> web.StreamResponse:
        m, p, body = call.method, call.path, call.body or {}
        if m == "GET" and p in ("/gateway/bot", "/gateway"):
            return _json(self._gateway_bot())
        if m == "GET" and p == "/users/@me":
            return _json(self.bot_user)
        if m == "GET" and p == "/oauth2/applications/@me":
            return _json(self._application())
        if m == "PUT" and re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", p):
            return _json([self._command(c) for c in body])
        if m == "POST" and p == "/users/@me/channels":
            return _json(self._dm_channel(int(body["recipient_id"])))
        if match := re.fullmatch(r"/users/(\d+)", p):
            return _json(self.user(int(match[1])))
        if m == "POST" and (match := re.fullmatch(r"/channels/(\d+)/messages", p)):
            channel_id = int(match[1])
            message = self._message(channel_id, self.bot_user, body, files=call.files)
            self._post("channel", channel_id, message, call)
            return _json(message)
        if m == "POST" and (match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", p)):
            return await self._start_thread(int(match[1]), int(match[2]), str(body.get("name") or "thread"))
        if m == "PATCH" and (match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)):
            return _json(self._edit(int(match[2]), body))
        if m == "POST" and (match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", p)):
            return _json(self._callback(int(match[1]), body, call))
        if m == "POST" and (match := re.fullmatch(r"/webhooks/(\d+)/itoken-(\d+)", p)):
            interaction_id = int(match[2])
            channel_id = self._interaction_channel(interaction_id)
            message = self._message(
                channel_id, self.bot_user, body, files=call.files, webhook_id=str(self.application_id)
            )
            self._post("followup", int(message["channel_id"]), message, call, interaction_id)
            return _json(message)
        if match := re.fullmatch(r"/webhooks/\d+/itoken-(\d+)/messages/(@original|\d+)", p):
            return self._original(m, int(match[1]), match[2], body)
        return _json({"message": f"fake: no route {m} {p}", "code": 0}, status=404)

    def _post(
        self,
        via: str,
        channel_id: int,
        message: dict[str, Any],
        call: RestCall,
        interaction_id: int | None = None,
    ) -> None:
        if interaction_id is not None:
            user_id = self.interaction_users.get(interaction_id)
        else:
            user_id = self._dm_users.get(channel_id)
        posted = Posted(via, channel_id, message, dict(call.body or {}), call.files, interaction_id, user_id)
        self.posted.append(posted)
        if self.on_post is not None:
            self.on_post(posted)

    async def _start_thread(self, channel_id: int, message_id: int, name: str) -> web.Response:
        """A public thread on a message: its id is the message's, and the gateway announces it (THREAD_CREATE)."""
        if message_id in self.threads:
            return _json({"message": "A thread has already been created for this message", "code": 160004},
                         status=400)
        thread = {"id": str(message_id), "guild_id": str(self.guild_id), "parent_id": str(channel_id), "type": 11,
                  "name": name[:100], "owner_id": str(self.bot_id), "last_message_id": None, "message_count": 0,
                  "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                      "archive_timestamp": _now(), "create_timestamp": _now()}}
        self.threads[message_id] = thread
        await self.dispatch("THREAD_CREATE", thread | {"newly_created": True}, guild_id=self.guild_id)
        return _json(thread, status=201)

    def _edit(self, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(message_id) or {"id": str(message_id), "channel_id": "0", "content": ""}
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = _now()
        return message

    def _interaction_channel(self, interaction_id: int) -> int:
        payload = self.interactions.get(interaction_id)
        return int(payload["channel_id"]) if payload else 0

    # fmt: off
    def _callback(self, interaction_id: int, body: dict[str, Any], call: RestCall) -> dict[str, Any]:
        kind, data = int(body.get("type", 0)), body.get("data") or {}
        payload = self.interactions.get(interaction_id, {})
        channel_id = self._interaction_channel(interaction_id)
        result: dict[str, Any] = {"interaction": {
            "id": str(interaction_id), "type": int(payload.get("type", 2)), "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL)}}
        if kind == 4:  # CHANNEL_MESSAGE_WITH_SOURCE
            metadata = {"id": str(interaction_id), "type": int(payload.get("type", 2)),
                        "user": self.user(self.interaction_users.get(interaction_id, 1)),
                        "authorizing_integration_owners": {}}
            message = self._message(channel_id, self.bot_user, data, files=call.files, interaction_metadata=metadata)
            self._post("callback", channel_id, message, RestCall(call.method, call.path, call.query, data, call.files),
                       interaction_id)
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": 4, "message": message}
        elif kind == 7 and payload.get("message"):  # UPDATE_MESSAGE
            result["resource"] = {"type": 7, "message": self._edit(int(payload["message"]["id"]), data)}
        elif kind == 5:  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: a "thinking…" original to edit or delete
            flags = int(data.get("flags") or 0) | 128
            payload["_original"] = self._message(channel_id, self.bot_user, {"content": ""}, flags=flags)
            result["interaction"]["response_message_id"] = payload["_original"]["id"]
        return result
    # fmt: on

    def _original(self, method: str, interaction_id: int, which: str, body: dict[str, Any]) -> web.Response:
        payload = self.interactions.get(interaction_id, {})
        original = payload.get("_original") or {"id": "0", "channel_id": "0", "content": ""}
        if method == "DELETE":
            return web.Response(status=204)
        if method == "PATCH":
            return _json(self._edit(int(original["id"]), body))
        return _json(original)


async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[tuple[str, bytes]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            data = await part.read()  # type: ignore[union-attr]
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = json.loads(data)
            else:
                files.append((part.filename or part.name or "file", bytes(data)))  # type: ignore[union-attr]
        return body, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py parses a body only when content-type is exactly application/json, no charset.
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _now() -> str:
    return datetime.now(UTC).isoformat()
