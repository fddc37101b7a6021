"""Turn a `Reply` into Slack message text, Block Kit blocks and metadata."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.channels.slack.translate import ACTION_PREFIX, OWNED_BLOCK
from handlers.messages import DESK, Button, Kind, Reply

SECTION_LIMIT = 3000  # characters of mrkdwn in one section block
TEXT_LIMIT = 39000  # chat.postMessage truncates `text` at 40,000
BUTTON_LABEL_LIMIT = 75
BUTTONS_PER_BLOCK = 25
FIELDS_PER_SECTION = 10
HEADER_LIMIT = 150
SHORT_FIGURE = 40  # longer values read badly in Slack's two-column fields
METADATA_EVENT = "concierge_reply"
# Shown above a person's words relayed from the desk, so the customer knows a person wrote them.
PERSON_MARK = "From a person on our team"
_FIGURE = re.compile(r"^\s*([^:\n]{1,48}):\s+(\S.*)$")


@dataclass(frozen=True)
class Rendered:
    """What chat.postMessage / chat.postEphemeral need for one reply."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup, so `<!channel>` stays plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(reply: Reply) -> Rendered:
    """Lay out a reply: escaped text, figures as fields, buttons as an actions block."""
    text = escape(reply.text)
    blocks: list[dict[str, Any]] = []
    if reply.kind == Kind.STATS:
        blocks.extend(_figure_blocks(reply.text))
    elif reply.kind == Kind.AGENT:
        # Blocks, not the text: the text stays the person's words alone, for notifications and search.
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{PERSON_MARK}*"}]})
        blocks.extend(_section(chunk) for chunk in split_for_sections(reply.text))
    elif reply.buttons and reply.text.strip():
        blocks.extend(_section(chunk) for chunk in split_for_sections(reply.text))
    if reply.buttons:
        # A customer's buttons name them, so a press by anyone else is told apart without a lookup.
        blocks.extend(button_blocks(reply.buttons, owner=None if reply.to == DESK else reply.to))
    return Rendered(text=_truncate(text), blocks=blocks, metadata=metadata(reply))


def metadata(reply: Reply) -> dict[str, Any]:
    """Message metadata naming the reply's kind, so tools and tests can tell messages apart."""
    payload: dict[str, Any] = {"kind": str(reply.kind)}
    if reply.conversation_id is not None:
        payload["conversation_id"] = reply.conversation_id
    if reply.message_id is not None:
        # The outbox id: after a crash, the channel's history tells whether this message went out already.
        payload["message_id"] = reply.message_id
    return {"event_type": METADATA_EVENT, "event_payload": payload}


def outbox_id(message: Any) -> object:
    """The outbox id a posted message carries in its metadata (None for others)."""
    metadata = message.get("metadata") if isinstance(message, dict) else None
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    return payload.get("message_id") if isinstance(payload, dict) else None


def button_blocks(buttons: Sequence[Button], owner: str | None = None) -> list[dict[str, Any]]:
    """One actions block per 25 buttons; `action_id` is unique in the message, `value` is the button id.

    The `block_id` names the user the buttons were sent to (`owner`); desk cards name nobody.
    """
    elements = [
        {
            "type": "button",
            "action_id": f"{ACTION_PREFIX}{index}",
            "text": {"type": "plain_text", "text": _clip(button.label, BUTTON_LABEL_LIMIT), "emoji": True},
            "value": button.id,
        }
        for index, button in enumerate(buttons)
    ]
    return [
        {"type": "actions", "block_id": _block_id(start // BUTTONS_PER_BLOCK, owner),
         "elements": elements[start:start + BUTTONS_PER_BLOCK]}
        for start in range(0, len(elements), BUTTONS_PER_BLOCK)
    ]


def _block_id(number: int, owner: str | None) -> str:
    plain = f"concierge_actions_{number}"
    return plain if owner is None else OWNED_BLOCK.format(number=number, owner=owner)


def chosen_blocks(message: Mapping[str, Any], label: str) -> list[dict[str, Any]]:
    """The pressed message without its buttons and with a line saying what was chosen."""
    kept = [block for block in message.get("blocks") or [] if block.get("type") != "actions"]
    if not kept and message.get("text"):
        # The text already came back escaped from Slack, so it is not escaped twice.
        kept = [{"type": "section", "text": {"type": "mrkdwn", "text": str(message["text"])[:SECTION_LIMIT]}}]
    chosen = f"You chose: *{escape(label)}*"
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": chosen}]}]


def split_for_sections(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split raw text into escaped pieces of at most `limit` characters, at line breaks when possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        for part in _hard_split(escape(line), limit):
            candidate = f"{current}\n{part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                pieces.append(current)
                current = part
    if current or not pieces:
        pieces.append(current or " ")
    return pieces


def _hard_split(escaped: str, limit: int) -> Iterator[str]:
    while len(escaped) > limit:
        cut = escaped.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
            # Never cut an entity such as "&amp;" in two.
            entity = escaped.rfind("&", max(0, cut - 4), cut)
            if entity != -1:
                cut = entity
        yield escaped[:cut]
        escaped = escaped[cut:].lstrip(" ")
    yield escaped


def _figure_blocks(text: str) -> list[dict[str, Any]]:
    """Short "Satisfied: 92%" lines become two-column fields, long ones labelled sections, prose sections."""
    blocks: list[dict[str, Any]] = []
    fields: list[dict[str, str]] = []
    prose: list[str] = []

    def flush_fields() -> None:
        for start in range(0, len(fields), FIELDS_PER_SECTION):
            blocks.append({"type": "section", "fields": fields[start:start + FIELDS_PER_SECTION]})
        fields.clear()

    def flush_prose() -> None:
        if any(line.strip() for line in prose):
            blocks.extend(_section(chunk) for chunk in split_for_sections("\n".join(prose).strip("\n")))
        prose.clear()

    lines = text.split("\n")
    title = lines[0].strip().rstrip(":")
    if title and not _FIGURE.match(lines[0]) and len(title) <= HEADER_LIMIT:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}})
        lines = lines[1:]
    for line in lines:
        match = _FIGURE.match(line)
        if match and len(match.group(2).strip()) <= SHORT_FIGURE:
            flush_prose()
            label, value = (escape(part.strip()) for part in match.groups())
            fields.append({"type": "mrkdwn", "text": f"*{label}*\n{value}"})
        elif match:
            flush_prose()
            flush_fields()
            label, value = (escape(part.strip()) for part in match.groups())
            blocks.extend(_section(chunk) for chunk in split_for_sections(f"*{label}:* {value}"))
        else:
            flush_fields()
            prose.append(line)
    flush_fields()
    flush_prose()
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _truncate(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…"
