"""A fake Slack Web API (and Socket Mode server) on 127.0.0.1 that records every call.

It runs its own event loop in a thread, so sync tests, async tests and benchmarks can share it.
What Slack sends to the app (signed requests, payloads) is in tests/fakes/slack_requests.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0TEST"
_JSON_FIELDS = ("blocks", "files", "metadata", "attachments", "file_uploads")


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    status: int = 200
    token: str | None = None
    body: bytes = b""
    response: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    @property
    def message(self) -> dict[str, Any]:
        """The message as Slack would show it back (in a button press payload, say)."""
        return dict(self.response.get("message") or {})


class FakeSlack:
    """Slack's Web API as far as Concierge uses it; answers `ok: true` with plausible payloads."""

    def __init__(self, token: str = BOT_TOKEN, app_token: str = APP_TOKEN, port: int = 0) -> None:
        self.token = token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.socket_acks: list[dict[str, Any]] = []
        self.names: dict[str, str] = {}
        self._lock = threading.Lock()
        self._rate_limited: dict[str, int] = {}
        self._failures: dict[str, list[str]] = {}
        # chat.postMessage refusals still due per channel: (how many more, the error).
        self._refusing: dict[str, tuple[int, str]] = {}
        # Posted messages by channel (oldest first), for conversations.history / conversations.replies.
        self._posted: dict[str, list[dict[str, Any]]] = {}
        self._ts = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-slack", daemon=True)
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self.port = port

    # ---- lifecycle

    def start(self) -> FakeSlack:
        """Listen on a random port of 127.0.0.1."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Close every connection and the server."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ---- behaviour on demand

    def rate_limit_once(self, method: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and Retry-After: 1."""
        with self._lock:
            self._rate_limited[method] = self._rate_limited.get(method, 0) + times

    def fail_once(self, method: str, error: str) -> None:
        """Answer the next call of `method` with `ok: false` and this error."""
        with self._lock:
            self._failures.setdefault(method, []).append(error)

    def refuse_posts_to(self, channel: str, times: int, error: str = "internal_error") -> None:
        """Answer the next `times` chat.postMessage calls to `channel` with `ok: false` and this error."""
        with self._lock:
            self._refusing[channel] = (times, error)

    # ---- what happened

    def of(self, method: str, status: int | None = 200) -> list[Call]:
        """The calls of one method (by default only those answered 200)."""
        with self._lock:
            return [c for c in self.calls if c.method == method and (status is None or c.status == status)]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Parameters of every chat.postMessage, optionally only those to one channel."""
        calls = self.of("chat.postMessage")
        return [c.params for c in calls if channel is None or c.params.get("channel") == channel]

    def clear(self) -> None:
        """Forget the calls recorded so far."""
        with self._lock:
            self.calls.clear()
            self._posted.clear()
            self.socket_acks.clear()

    def wait_for(
        self, method: str, predicate: Callable[[Call], bool] = lambda _: True, count: int = 1,
        timeout: float = 15.0,
    ) -> list[Call]:
        """Block until `count` calls of `method` match, and return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.of(method) if predicate(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(c.method, c.status) for c in self.calls]
                raise AssertionError(f"waited {timeout}s for {count} x {method}; saw {found} among {seen}")
            time.sleep(0.02)

    async def await_for(
        self, method: str, predicate: Callable[[Call], bool] = lambda _: True, count: int = 1,
        within: float = 15.0,
    ) -> list[Call]:
        """`wait_for` without blocking the caller's event loop."""
        return await asyncio.to_thread(self.wait_for, method, predicate, count, within)

    # ---- Socket Mode

    def socket_connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    def send_socket(self, payload: dict[str, Any], kind: str = "events_api") -> str:
        """Push one Socket Mode envelope to every connected client; returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": 0}

        async def push() -> None:
            for ws in self._sockets:
                if not ws.closed:
                    await ws.send_str(json.dumps(envelope))

        asyncio.run_coroutine_threadsafe(push(), self._loop).result(5)
        return envelope_id

    # ---- server

    async def _start(self) -> None:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/_fake/summary", self._summary)
        app.router.add_post("/_fake/clear", self._clear)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        with self._lock:
            limited = self._rate_limited.get(method, 0)
            if limited:
                self._rate_limited[method] = limited - 1
            failure = self._failures.get(method, []).pop(0) if self._failures.get(method) else None
            left, refusal = self._refusing.get(str(params.get("channel")), (0, ""))
            if method == "chat.postMessage" and left and failure is None:
                self._refusing[str(params.get("channel"))] = (left - 1, refusal)
                failure = refusal
        if limited:
            self._record(Call(method, params, 429, token))
            limited_answer = {"ok": False, "error": "ratelimited"}
            return web.json_response(limited_answer, status=429, headers={"Retry-After": "1"})
        expected = self.app_token if method == "apps.connections.open" else self.token
        if token != expected:
            self._record(Call(method, params, 401, token))
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if failure is not None:
            self._record(Call(method, params, 200, token, response={"ok": False, "error": failure}))
            return web.json_response({"ok": False, "error": failure})
        answer = {"ok": True, **self._answer(method, params)}
        self._record(Call(method, params, 200, token, response=answer))
        if method == "chat.postMessage":
            with self._lock:
                self._posted.setdefault(str(answer["channel"]), []).append(dict(answer["message"]))
        return web.json_response(answer)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"url": "https://test.slack.com/", "team": "Test", "user": "concierge",
                    "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID}
        if method in ("chat.postMessage", "chat.update"):
            channel = _dm_of(str(params.get("channel", "")))
            ts = str(params.get("ts") or self._next_ts())
            kept = ("text", "blocks", "thread_ts", "metadata")
            shown: dict[str, Any] = {k: params[k] for k in kept if k in params}
            message: dict[str, Any] = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts,
                                       **shown}
            return {"channel": channel, "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"message_ts": self._next_ts()}
        if method == "users.info":
            user = str(params.get("user"))
            name = self.names.get(user, f"name-{user}")
            return {"user": {"id": user, "name": user.lower(), "profile": {"display_name": name,
                                                                           "real_name": f"Real {name}"}}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{uuid.uuid4().hex[:10].upper()}"
            return {"file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            return {"files": [{"id": f.get("id"), "title": f.get("title")} for f in params.get("files", [])]}
        if method in ("conversations.history", "conversations.replies"):
            return {"messages": self._history(str(params.get("channel", "")), params.get("ts")), "has_more": False}
        if method == "conversations.open":
            return {"channel": {"id": _dm_of(str(params.get("users", "")))}}
        if method == "apps.connections.open":
            return {"url": f"ws://127.0.0.1:{self.port}/socket"}
        return {}

    def _history(self, channel: str, thread_ts: object) -> list[dict[str, Any]]:
        """Messages posted in a channel (or one thread of it), newest first, metadata included."""
        with self._lock:
            posted = list(self._posted.get(_dm_of(channel), ()))
        if thread_ts:
            posted = [m for m in posted if m.get("thread_ts") == thread_ts]
        return list(reversed(posted))

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    async def _summary(self, request: web.Request) -> web.Response:
        """For a fake in another process: how many calls of a method, in which channels, the latest when."""
        calls = self.of(request.query.get("method", "chat.postMessage"))
        return web.json_response({"count": len(calls), "last_at": max((c.at for c in calls), default=0.0),
                                  "channels": sorted({str(c.response.get("channel")) for c in calls})})

    async def _clear(self, _: web.Request) -> web.Response:
        self.clear()
        return web.json_response({"ok": True})

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        self._record(Call("upload", {"file_id": request.match_info["file_id"]}, 200, body=body))
        return web.Response(text=f"OK - {len(body)}")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A1"}}))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                with self._lock:
                    self.socket_acks.append(json.loads(message.data))
        self._sockets.remove(ws)
        return ws


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def _dm_of(channel: str) -> str:
    # Posting to a user id lands in the DM with them, whose id Slack returns.
    return f"D{channel[1:]}" if channel[:1] in ("U", "W") else channel
