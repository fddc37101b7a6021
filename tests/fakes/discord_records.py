"""What the fake Discord records: REST calls and the messages the bot posted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
API_PREFIX = "/api/v10"
EPHEMERAL = 64


@dataclass
class RestCall:
    """One REST request the bot made."""

    method: str
    path: str  # after /api/v10
    query: dict[str, str]
    body: Any  # JSON body, or the payload_json part of a multipart body
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, content)


@dataclass
class Posted:
    """A message the bot made visible: to a channel, as an interaction response, or as a followup."""

    via: str  # "channel", "callback" or "followup"
    channel_id: int
    message: dict[str, Any]
    body: dict[str, Any]
    files: list[tuple[str, bytes]]
    interaction_id: int | None = None
    user_id: int | None = None  # whose DM, or whose interaction this answers
    at: float = field(default_factory=time.perf_counter)

    @property
    def content(self) -> str:
        return str(self.message.get("content") or "")

    @property
    def flags(self) -> int:
        return int(self.body.get("flags") or 0)

    @property
    def custom_ids(self) -> list[str]:
        rows = self.message.get("components", [])
        return [c["custom_id"] for row in rows for c in row.get("components", []) if "custom_id" in c]

    @property
    def button_ids(self) -> list[str]:
        """The core's button ids behind the custom ids (`concierge:<id>` or `concierge@<owner>:<id>`)."""
        return [c.partition(":")[2] for c in self.custom_ids]

    def custom_id(self, button_id: str) -> str:
        """The custom id of this message's button for the core's `button_id`."""
        return next(c for c in self.custom_ids if c.partition(":")[2] == button_id)
