"""The discord.py client: intents, caches, persistent buttons and slash commands, events to the channel."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import discord
from discord import app_commands

from bot.channels.discord.commands import build_group
from bot.channels.discord.components import ConciergeButton, PressHandler
from bot.channels.discord.translate import no_mentions

log = logging.getLogger(__name__)


class EventSink(PressHandler, Protocol):
    """What the client hands gateway events to (the Discord channel)."""

    guild_ids: tuple[int, ...]

    async def on_message(self, message: discord.Message) -> None: ...

    async def on_command(self, interaction: discord.Interaction[Any], command: str, args: tuple[str, ...]) -> None: ...


def intents(message_content: bool) -> discord.Intents:
    """Return the gateway intents Concierge needs; message content only when asked for (it is privileged)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.dm_messages = True
    wanted.guild_messages = True
    wanted.message_content = message_content
    return wanted


def client_options(message_content: bool) -> dict[str, Any]:
    """Return the constructor options shared by the plain and the sharded client."""
    return {
        "intents": intents(message_content),
        # A default for anything sent without explicit settings; every send also passes none().
        "allowed_mentions": no_mentions(),
        # The adapter reads nothing back from caches, so keep memory flat under load.
        "max_messages": None,
        "member_cache_flags": discord.MemberCacheFlags.none(),
        "chunk_guilds_at_startup": False,
    }


class ConciergeClient(discord.Client):
    """A client that forwards messages, presses and commands to one Concierge channel."""

    def __init__(self, concierge: EventSink, **options: Any) -> None:
        super().__init__(**options)
        self.concierge = concierge
        self.tree: app_commands.CommandTree[ConciergeClient] = app_commands.CommandTree(self)
        self.tree.add_command(build_group(concierge.on_command))

    async def setup_hook(self) -> None:
        """Register the persistent buttons and publish the slash commands."""
        self.add_dynamic_items(ConciergeButton)
        await self._sync_commands()

    async def _sync_commands(self) -> None:
        try:
            if self.concierge.guild_ids:
                # Guild commands appear at once; global ones may take a while on Discord's side.
                for guild_id in self.concierge.guild_ids:
                    guild = discord.Object(id=guild_id)
                    self.tree.copy_global_to(guild=guild)
                    await self.tree.sync(guild=guild)
            else:
                await self.tree.sync()
        except discord.HTTPException as error:
            # Missing the applications.commands scope must not stop messages and buttons working.
            log.warning(
                "publishing /concierge commands failed (HTTP %s %s); invite the bot with the "
                "applications.commands scope",
                error.status,
                error.text,
            )

    async def on_ready(self) -> None:
        """Log who we are connected as."""
        log.info("discord connected as %s (%s) in %d guild(s)", self.user, self.application_id, len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        """Forward every gateway message; the channel decides which are for the bot."""
        await self.concierge.on_message(message)


class ShardedConciergeClient(ConciergeClient, discord.AutoShardedClient):
    """The same client over several gateway shards (one process may run a subset of them)."""
