"""Turn Slack payloads (events, button presses, slash commands) into `Inbound` messages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from handlers.desk import THREAD_COMMAND
from handlers.messages import Inbound

PLATFORM = "slack"
ACTION_PREFIX = "concierge:"
# The actions block of buttons sent to one user; Slack hands the block_id back with every press.
OWNED_BLOCK = "concierge_actions_{number}_for_{owner}"
_OWNED_BLOCK = re.compile(r"^concierge_actions_\d+_for_(?P<owner>[A-Za-z0-9]+)$")

# Subtypes that are still a person writing; every other subtype (edits, deletions, joins, bot posts)
# is not something a customer said to us.
_SPOKEN_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_MARKUP = re.compile(r"<([^<>]*)>")
_SPACES = re.compile(r"\s+")


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Decode Slack markup into the text the person saw, without the bot's own mention."""

    def unmark(match: re.Match[str]) -> str:
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

    decoded = _MARKUP.sub(unmark, text)
    # Slack escapes only these three; &amp; goes last so "&amp;lt;" stays the literal "&lt;".
    decoded = decoded.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _SPACES.sub(" ", decoded).strip()


def message_inbound(body: Mapping[str, Any], bot_user_id: str | None = None) -> Inbound | None:
    """Translate a `message` event in a DM with the bot; None for anything a customer did not write."""
    event = _mapping(body.get("event"))
    if event.get("channel_type") != "im" or not _written_by_person(event):
        return None
    return _event_inbound(body, event, bot_user_id, thread_id=_id(event.get("thread_ts")))


def mention_inbound(body: Mapping[str, Any], bot_user_id: str | None = None) -> Inbound | None:
    """Translate an `app_mention`; the reply goes into the mention's thread."""
    event = _mapping(body.get("event"))
    if not _written_by_person(event):
        return None
    return _event_inbound(body, event, bot_user_id, thread_id=_id(event.get("thread_ts")) or _id(event.get("ts")))


def desk_thread_inbound(
    body: Mapping[str, Any], desk_channel: str | None, bot_user_id: str | None = None
) -> Inbound | None:
    """Translate a person's reply in a thread of the desk channel into the desk's thread command."""
    event = _mapping(body.get("event"))
    thread = _id(event.get("thread_ts"))
    if (not desk_channel or event.get("channel") != desk_channel or thread is None
            or thread == _id(event.get("ts")) or not _written_by_person(event)):
        return None
    inbound = _event_inbound(body, event, bot_user_id, thread_id=thread)
    return None if inbound is None else replace(inbound, command=THREAD_COMMAND)


def _presser(user: str, message_ts: str | None) -> str:
    """Who pressed, for the event key: one user's double click is one event, another user's press is another.

    Hashed with the message's ts, so the key (kept after `forget`) neither names the user nor links their presses.
    """
    return hashlib.blake2b(user.encode(), key=(message_ts or "").encode()[:64], digest_size=8).hexdigest()


def action_inbound(body: Mapping[str, Any], desk_channel: str | None = None) -> Inbound | None:
    """Translate a `block_actions` press on one of our buttons; one in the desk answers in the message's thread."""
    actions = body.get("actions")
    user = _id(_mapping(body.get("user")).get("id"))
    if not isinstance(actions, list) or not actions or not user:
        return None
    action = _mapping(actions[0])
    action_id = _id(action.get("action_id")) or ""
    value = _id(action.get("value"))
    if not action_id.startswith(ACTION_PREFIX) or value is None:
        return None
    container = _mapping(body.get("container"))
    message = _mapping(body.get("message"))
    message_ts = _id(container.get("message_ts")) or _id(message.get("ts"))
    channel = _id(container.get("channel_id")) or _id(_mapping(body.get("channel")).get("id"))
    thread = _id(container.get("thread_ts")) or _id(message.get("thread_ts"))
    if thread is None and desk_channel and channel == desk_channel:
        # A ticket card's button: what follows about the ticket goes to the card's thread.
        thread = message_ts
    owned = _OWNED_BLOCK.match(_id(action.get("block_id")) or "")
    return Inbound(
        platform=PLATFORM,
        user_id=user,
        button_id=value,
        event_id=f"action:{message_ts}:{action_id}:{_presser(user, message_ts)}",
        channel_id=channel,
        thread_id=thread,
        received_at=_when(action.get("action_ts")),
        button_owner=owned["owner"] if owned else None,
    )


def command_inbound(body: Mapping[str, Any]) -> Inbound | None:
    """Translate a slash command: the first word is the command, the rest its arguments."""
    user = _id(body.get("user_id"))
    if not user:
        return None
    text = body.get("text")
    words = plain_text(text if isinstance(text, str) else "").split()
    # A bare "/concierge" is the platform's way of asking what the bot can do.
    command = words[0].lower() if words else "help"
    trigger = _id(body.get("trigger_id"))
    return Inbound(
        platform=PLATFORM,
        user_id=user,
        command=command,
        args=tuple(words[1:]),
        event_id=f"command:{trigger}" if trigger else None,
        channel_id=_id(body.get("channel_id")),
    )


def _written_by_person(event: Mapping[str, Any]) -> bool:
    return (
        _subtype(event) in _SPOKEN_SUBTYPES
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and _id(event.get("user")) is not None
    )


def _event_inbound(
    body: Mapping[str, Any], event: Mapping[str, Any], bot_user_id: str | None, thread_id: str | None
) -> Inbound | None:
    raw = event.get("text")
    text = plain_text(raw if isinstance(raw, str) else "", bot_user_id)
    user = _id(event.get("user"))
    if not text or user is None:
        return None
    return Inbound(
        platform=PLATFORM,
        user_id=user,
        text=text,
        event_id=_id(body.get("event_id")),
        channel_id=_id(event.get("channel")),
        thread_id=thread_id,
        received_at=_when(event.get("ts")),
    )


def _mapping(value: object) -> Mapping[str, Any]:
    """Return `value` if it is an object, else an empty one: a malformed payload is ignored, not raised on."""
    return value if isinstance(value, Mapping) else {}


def _id(value: object) -> str | None:
    """Return a non-empty string id, or None for a missing or wrongly typed one."""
    return value if isinstance(value, str) and value else None


def _subtype(event: Mapping[str, Any]) -> str | None:
    """Return the event's subtype; one of the wrong type counts as an unknown subtype."""
    subtype = event.get("subtype")
    return subtype if subtype is None or isinstance(subtype, str) else "malformed"


def _when(ts: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(str(ts)), UTC)
    except (TypeError, ValueError, OverflowError):
        return None
