"""The messages that cross the boundary between a platform adapter and the core.

Adapters translate platform payloads into `Inbound` and deliver `Reply` objects; nothing else of a
platform reaches the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# `Reply.to` naming the agent desk of `Reply.platform` rather than a user; adapters map it to the desk channel.
DESK = "desk"


class Kind(StrEnum):
    """What a bot message is for; part of the external contract (DESIGN.md section 3)."""

    GREETING = "greeting"
    ANSWER = "answer"
    CLARIFY = "clarify"
    FALLBACK = "fallback"
    RESOLUTION_CHECK = "resolution_check"
    SATISFACTION_CHECK = "satisfaction_check"
    RECOVERY = "recovery"
    OFFER = "offer"
    REFERRAL = "referral"
    FOLLOWUP = "followup"
    HANDOFF = "handoff"
    AGENT = "agent"
    NOTICE = "notice"
    STATS = "stats"


@dataclass(frozen=True)
class Button:
    """A button the user can press; `id` comes back as `Inbound.button_id`."""

    id: str
    label: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply, such as the stats chart."""

    filename: str
    content: bytes
    mime_type: str = "image/png"


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: typed text, pressed a button, or ran a command.

    `user_id` is the platform's own id; `user_key` ("slack:U123") is how roles and storage name them.
    `channel_id` / `thread_id` say where the message arrived so the reply can go back there.
    `event_id` is the platform's delivery id, used to drop duplicates.
    `button_owner` is the platform user id the pressed button was sent to, when the button carries one
    (a customer's buttons in a channel others can see); None for desk cards and older buttons.
    """

    platform: str
    user_id: str
    text: str = ""
    button_id: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    event_id: str | None = None
    channel_id: str | None = None
    thread_id: str | None = None
    display_name: str | None = None
    received_at: datetime | None = None
    button_owner: str | None = None

    @property
    def user_key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Reply:
    """One message from the bot (or a relayed person) to one user or desk channel.

    A customer-bound reply is stored before it is sent; `message_id` names that row, which the hub
    marks sent once the platform has accepted the message (the outbox).
    """

    platform: str
    to: str
    kind: Kind
    text: str
    buttons: tuple[Button, ...] = ()
    channel_id: str | None = None
    thread_id: str | None = None
    conversation_id: int | None = None
    attachments: tuple[Attachment, ...] = field(default=())
    ephemeral: bool = False
    # The stored outbound row (the outbox entry) this reply delivers; None for messages not stored.
    message_id: int | None = None

    @property
    def to_key(self) -> str:
        return f"{self.platform}:{self.to}"


def user_key(platform: str, user_id: str) -> str:
    """Return the platform-qualified key that names a user in config and storage."""
    return f"{platform}:{user_id}"
