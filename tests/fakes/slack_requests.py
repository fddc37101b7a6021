"""What Slack sends to an app: signed HTTP requests and the payloads of events, presses and commands."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlencode

from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to a request: `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_body(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """An Events API envelope around one event."""
    return {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A1", "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
            "event": event}


def dm(user: str, text: str, *, channel: str | None = None, event_id: str | None = None,
       **extra: Any) -> dict[str, Any]:
    """A customer's direct message to the bot."""
    event = {"type": "message", "channel_type": "im", "user": user, "text": text,
             "channel": channel or f"D{user[1:]}", "ts": f"{time.time():.6f}", "team": TEAM_ID, **extra}
    return event_body(event, event_id)


def mention(user: str, text: str, *, channel: str = "CSUPPORT", thread_ts: str | None = None,
            event_id: str | None = None) -> dict[str, Any]:
    """Someone mentioning the bot in a channel."""
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}",
             "channel": channel, "ts": f"{time.time():.6f}", "team": TEAM_ID}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_body(event, event_id)


def button_press(user: str, message: dict[str, Any], channel: str, value: str) -> dict[str, Any]:
    """The `block_actions` payload for pressing the button with `value` on a posted message."""
    block, action = next((b, e) for b in message.get("blocks", []) if b.get("type") == "actions"
                         for e in b["elements"] if e.get("value") == value)
    return {"type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A1", "token": "legacy", "trigger_id": f"trig.{uuid.uuid4().hex[:8]}",
            "team": {"id": TEAM_ID}, "channel": {"id": channel},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel,
                          "is_ephemeral": False},
            "message": message, "response_url": "http://127.0.0.1:9/respond",
            "actions": [{**action, "block_id": block["block_id"], "action_ts": f"{time.time():.6f}"}]}


def interactive_form(payload: dict[str, Any]) -> str:
    """Interactivity requests arrive form-encoded with the JSON in `payload`."""
    return urlencode({"payload": json.dumps(payload)})


def command_form(user: str, text: str, command: str = "/concierge", channel: str | None = None) -> str:
    """A slash command request body."""
    return urlencode({"token": "legacy", "team_id": TEAM_ID, "channel_id": channel or f"D{user[1:]}",
                      "user_id": user, "user_name": user.lower(), "command": command, "text": text,
                      "response_url": "http://127.0.0.1:9/respond", "trigger_id": f"trig.{uuid.uuid4().hex}"})


def signed_post(url: str, body: str, secret: str, *, form: bool = False, timestamp: int | None = None,
                headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, str]:
    """POST a body to the bot the way Slack does (blocking); returns (status, response text)."""
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": content_type, **sign(body, secret, timestamp), **(headers or {})})
    try:
        with _NO_PROXY.open(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
