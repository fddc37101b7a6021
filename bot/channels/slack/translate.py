"""Turn Slack payloads (events, button presses, slash commands) into `Inbound` messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from handlers.messages import Inbound

PLATFORM = "slack"
ACTION_PREFIX = "concierge:"

# Subtypes that are still a person writing; every other subtype (edits, deletions, joins, bot posts)
# is not something a customer said to us.
_SPOKEN_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_MARKUP = re.compile(r"<([^<>]*)>")
_SPACES = re.compile(r"\s+")


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Decode Slack markup into the text the person saw, without the bot's own mention."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            if bot_user_id is not None and target[1:] == bot_user_id:
                return ""
            return f"@{label or target[1:]}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            # <!here>, <!channel>, <!subteam^S1|@team>, <!date^…|fallback>
            return label or f"@{target[1:].split('^', 1)[0]}"
        return label or target

    decoded = _MARKUP.sub(replace, text)
    # Slack escapes only these three; &amp; goes last so "&amp;lt;" stays the literal "&lt;".
    decoded = decoded.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _SPACES.sub(" ", decoded).strip()


def message_inbound(body: Mapping[str, Any], bot_user_id: str | None = None) -> Inbound | None:
    """Translate a `message` event in a DM with the bot; None for anything a customer did not write."""
    event = body.get("event") or {}
    if event.get("channel_type") != "im" or not _written_by_person(event):
        return None
    return _event_inbound(body, event, bot_user_id, thread_id=event.get("thread_ts"))


def mention_inbound(body: Mapping[str, Any], bot_user_id: str | None = None) -> Inbound | None:
    """Translate an `app_mention`; the reply goes into the mention's thread."""
    event = body.get("event") or {}
    if not _written_by_person(event):
        return None
    return _event_inbound(body, event, bot_user_id, thread_id=event.get("thread_ts") or event.get("ts"))


def action_inbound(body: Mapping[str, Any]) -> Inbound | None:
    """Translate a `block_actions` press on one of our buttons."""
    actions = body.get("actions") or []
    user = (body.get("user") or {}).get("id")
    if not actions or not user:
        return None
    action = actions[0]
    action_id = str(action.get("action_id", ""))
    if not action_id.startswith(ACTION_PREFIX) or action.get("value") is None:
        return None
    container = body.get("container") or {}
    message = body.get("message") or {}
    message_ts = container.get("message_ts") or message.get("ts")
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return Inbound(
        platform=PLATFORM,
        user_id=str(user),
        button_id=str(action["value"]),
        event_id=f"action:{message_ts}:{action_id}",
        channel_id=channel,
        thread_id=container.get("thread_ts") or message.get("thread_ts"),
        received_at=_when(action.get("action_ts")),
    )


def command_inbound(body: Mapping[str, Any]) -> Inbound | None:
    """Translate a slash command: the first word is the command, the rest its arguments."""
    user = body.get("user_id")
    if not user:
        return None
    words = plain_text(str(body.get("text") or "")).split()
    # A bare "/concierge" is the platform's way of asking what the bot can do.
    command = words[0].lower() if words else "help"
    trigger = body.get("trigger_id")
    return Inbound(
        platform=PLATFORM,
        user_id=str(user),
        command=command,
        args=tuple(words[1:]),
        event_id=f"command:{trigger}" if trigger else None,
        channel_id=body.get("channel_id"),
    )


def _written_by_person(event: Mapping[str, Any]) -> bool:
    return (
        event.get("subtype") in _SPOKEN_SUBTYPES
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and bool(event.get("user"))
    )


def _event_inbound(
    body: Mapping[str, Any], event: Mapping[str, Any], bot_user_id: str | None, thread_id: str | None
) -> Inbound | None:
    text = plain_text(str(event.get("text") or ""), bot_user_id)
    if not text:
        return None
    return Inbound(
        platform=PLATFORM,
        user_id=str(event["user"]),
        text=text,
        event_id=body.get("event_id"),
        channel_id=event.get("channel"),
        thread_id=thread_id,
        received_at=_when(event.get("ts")),
    )


def _when(ts: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(str(ts)), UTC)
    except (TypeError, ValueError, OverflowError):
        return None
