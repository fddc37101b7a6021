"""Pure translation between discord.py objects and Concierge's `Inbound` / `Reply`; no I/O here."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import discord

from handlers.desk import THREAD_COMMAND
from handlers.messages import Inbound, Kind, Reply

PLATFORM = "discord"
# `Reply.to` that names the agent desk rather than a user; it goes to `[discord] desk_channel_id`.
DESK = "desk"
CUSTOM_ID_PREFIX = "concierge:"
# `concierge:<button id>` (desk cards, and buttons sent before owners were named) or
# `concierge@<owner>:<button id>`: a customer's button names them, so another user's press is told apart
# from the owner's without a lookup, also after a restart.
CUSTOM_ID_TEMPLATE = r"concierge(?:@(?P<owner>[0-9]{1,20}))?:(?P<id>.+)"
MAX_CONTENT = 2000
MAX_EMBED_DESCRIPTION = 4096
MAX_LABEL = 80
MAX_CUSTOM_ID = 100
MAX_BUTTONS = 25
STATS_TITLE = "Concierge stats"
# Put before a person's words relayed from the desk, so the customer knows a person wrote them.
PERSON_MARK = "**From a person on our team:**"
# Messages people type; joins, pins, boosts and the like are not addressed to the bot.
_CONVERSATIONAL = (discord.MessageType.default, discord.MessageType.reply)
_WHITESPACE = re.compile(r"[ \t]{2,}")


def no_mentions() -> discord.AllowedMentions:
    """Return mention settings that ping nobody, whatever the text contains."""
    return discord.AllowedMentions.none()


def strip_mention(text: str, bot_id: int) -> str:
    """Remove the bot's own mention (`<@id>` or `<@!id>`) and tidy the spaces it leaves."""
    stripped = re.sub(rf"<@!?{bot_id}>", " ", text)
    return _WHITESPACE.sub(" ", stripped).strip()


def mentions_bot(message: discord.Message, bot_id: int) -> bool:
    """Return whether the message mentions the bot user."""
    if any(user.id == bot_id for user in message.mentions):
        return True
    return bot_id in message.raw_mentions


def should_serve(
    message: discord.Message,
    bot_id: int,
    *,
    support_channel_id: int | None = None,
    content_intent: bool = False,
) -> bool:
    """Return whether a gateway message is addressed to the bot: a DM, a mention, or the support channel."""
    if message.author.bot or message.author.id == bot_id:
        return False
    if message.type not in _CONVERSATIONAL:
        return False
    if message.guild is None:
        return True
    if mentions_bot(message, bot_id):
        return True
    # Without the privileged intent other guild messages arrive with empty content, so only then.
    if content_intent and support_channel_id is not None:
        return support_channel_id in _channel_and_parent(message.channel)
    return False


def _channel_and_parent(channel: Any) -> tuple[int, ...]:
    parent_id = getattr(channel, "parent_id", None)
    return (channel.id,) if parent_id is None else (channel.id, parent_id)


def _thread_id(channel: Any) -> str | None:
    return str(channel.id) if isinstance(channel, discord.Thread) else None


def inbound_from_message(message: discord.Message, bot_id: int) -> Inbound:
    """Translate a message the bot should serve into an `Inbound`."""
    return Inbound(
        platform=PLATFORM,
        user_id=str(message.author.id),
        text=strip_mention(message.content, bot_id),
        event_id=f"message:{message.id}",
        channel_id=str(message.channel.id),
        thread_id=_thread_id(message.channel),
        display_name=message.author.display_name,
    )


def in_desk_thread(message: discord.Message, bot_id: int, desk_channel_id: int | None) -> bool:
    """Return whether a person wrote this in a thread of the desk channel (a ticket card's thread)."""
    channel = message.channel
    return (
        desk_channel_id is not None
        and isinstance(channel, discord.Thread)
        and channel.parent_id == desk_channel_id
        and not message.author.bot
        and message.author.id != bot_id
        and message.type in _CONVERSATIONAL
    )


def inbound_from_desk_thread(message: discord.Message, bot_id: int) -> Inbound:
    """Translate a message in a desk thread into the desk's thread command, placed by (desk channel, thread)."""
    channel = message.channel
    assert isinstance(channel, discord.Thread)
    return Inbound(
        platform=PLATFORM,
        user_id=str(message.author.id),
        text=strip_mention(message.content, bot_id),
        command=THREAD_COMMAND,
        event_id=f"message:{message.id}",
        channel_id=str(channel.parent_id),
        thread_id=str(channel.id),
        display_name=message.author.display_name,
    )


def inbound_from_button(interaction: discord.Interaction[Any], button_id: str, owner: str | None = None) -> Inbound:
    """Translate a button press into an `Inbound` carrying the core's button id and the button's owner."""
    return Inbound(
        platform=PLATFORM,
        user_id=str(interaction.user.id),
        button_id=button_id,
        event_id=f"interaction:{interaction.id}",
        channel_id=_str_or_none(interaction.channel_id),
        thread_id=_thread_id(interaction.channel),
        display_name=interaction.user.display_name,
        button_owner=owner,
    )


def inbound_from_command(interaction: discord.Interaction[Any], command: str, args: tuple[str, ...]) -> Inbound:
    """Translate a `/concierge <command>` invocation into an `Inbound`."""
    return Inbound(
        platform=PLATFORM,
        user_id=str(interaction.user.id),
        command=command,
        args=args,
        event_id=f"interaction:{interaction.id}",
        channel_id=_str_or_none(interaction.channel_id),
        thread_id=_thread_id(interaction.channel),
        display_name=interaction.user.display_name,
    )


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


def custom_id_for(button_id: str, owner: str | None = None) -> str:
    """Return the component custom_id that carries a core button id and the user it was sent to."""
    return f"concierge@{owner}:{button_id}" if owner else f"{CUSTOM_ID_PREFIX}{button_id}"


def parse_custom_id(custom_id: str) -> tuple[str, str | None] | None:
    """Return (button id, owner) from one of our custom_ids, or None for anyone else's."""
    match = re.fullmatch(CUSTOM_ID_TEMPLATE, custom_id)
    return None if match is None else (match["id"], match["owner"])


def _owner(reply: Reply) -> str | None:
    """The user a reply's buttons belong to; desk cards (any agent may press) belong to nobody."""
    return reply.to if reply.to != DESK and reply.to.isdigit() else None


def split_text(text: str, limit: int = MAX_CONTENT) -> list[str]:
    """Split text into Discord-sized chunks, preferring line then word boundaries."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


@dataclass(frozen=True)
class Part:
    """One Discord message of a reply: text, and on the last part the embed, files and buttons."""

    content: str | None = None
    embed: discord.Embed | None = None
    attachments: tuple[tuple[str, bytes], ...] = ()
    buttons: tuple[tuple[str, str], ...] = field(default=())

    def kwargs(self, view: discord.ui.View | None) -> dict[str, Any]:
        """Return the keyword arguments for `send`, with fresh `discord.File`s and no pings."""
        out: dict[str, Any] = {"allowed_mentions": no_mentions()}
        if self.content:
            out["content"] = self.content
        if self.embed is not None:
            out["embed"] = self.embed
        if self.attachments:
            # discord.File wraps a stream that a send consumes, so build them per attempt.
            out["files"] = [discord.File(io.BytesIO(data), filename=name) for name, data in self.attachments]
        if view is not None:
            out["view"] = view
        return out


def button_specs(reply: Reply) -> tuple[tuple[str, str], ...]:
    """Return (custom_id, label) for the reply's buttons that Discord can carry."""
    specs: list[tuple[str, str]] = []
    owner = _owner(reply)
    for button in reply.buttons[:MAX_BUTTONS]:
        custom_id = custom_id_for(button.id, owner)
        if len(custom_id) > MAX_CUSTOM_ID:
            continue
        label = button.label if len(button.label) <= MAX_LABEL else button.label[: MAX_LABEL - 1] + "…"
        specs.append((custom_id, label or button.id[:MAX_LABEL]))
    return tuple(specs)


def dropped_buttons(reply: Reply) -> int:
    """Return how many of the reply's buttons Discord cannot carry (too many, or an id too long)."""
    return len(reply.buttons) - len(button_specs(reply))


def stats_embed(reply: Reply) -> discord.Embed:
    """Return the embed that shows the figures, with the first image attachment as its picture."""
    embed = discord.Embed(title=STATS_TITLE, description=reply.text[:MAX_EMBED_DESCRIPTION])
    for attachment in reply.attachments:
        if attachment.mime_type.startswith("image/"):
            embed.set_image(url=f"attachment://{attachment.filename}")
            break
    return embed


def reply_parts(reply: Reply) -> list[Part]:
    """Lay a reply out as Discord messages: text chunks, then embed, files and buttons on the last."""
    files = tuple((a.filename, a.content) for a in reply.attachments)
    buttons = button_specs(reply)
    if reply.kind is Kind.STATS:
        return [Part(embed=stats_embed(reply), attachments=files, buttons=buttons)]
    chunks = split_text(f"{PERSON_MARK} {reply.text}" if reply.kind is Kind.AGENT else reply.text)
    parts = [Part(content=chunk) for chunk in chunks[:-1]]
    parts.append(Part(content=chunks[-1], attachments=files, buttons=buttons))
    return parts
