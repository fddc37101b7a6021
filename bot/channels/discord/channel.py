"""The Discord channel: gateway events in as `Inbound`, `Reply` out as messages, embeds and files."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

import aiohttp
import discord

from bot.channels.base import Inbox
from bot.channels.discord.client import ConciergeClient, ShardedConciergeClient, client_options
from bot.channels.discord.components import buttons_view, disabled_view
from bot.channels.discord.endpoints import discord_endpoints, pin_bot_gateway
from bot.channels.discord.pending import PendingInteraction, PendingInteractions
from bot.channels.discord.translate import (
    DESK,
    PLATFORM,
    Part,
    custom_id_for,
    dropped_buttons,
    in_desk_thread,
    inbound_from_button,
    inbound_from_command,
    inbound_from_desk_thread,
    inbound_from_message,
    no_mentions,
    reply_parts,
    should_serve,
)
from bot.config import DiscordConfig
from handlers.desk import is_desk_button
from handlers.messages import Inbound, Reply

log = logging.getLogger(__name__)

T = TypeVar("T")

SEND_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 0.5
THREAD_EXISTS = 160004  # Discord's code for "a thread has already been created for this message"


class DeliveryError(RuntimeError):
    """A reply that could not be sent to Discord; the message names the conversation, never a token."""


class DiscordChannel:
    """One Discord bot connection (optionally a subset of shards) serving Concierge."""

    platform = PLATFORM

    def __init__(
        self,
        settings: DiscordConfig,
        *,
        shard_ids: list[int] | None = None,
        shard_count: int | None = None,
    ) -> None:
        self.settings = settings
        self.guild_ids: tuple[int, ...] = settings.guild_ids
        self.shard_ids = shard_ids
        self.shard_count = shard_count
        self.pending = PendingInteractions()
        self._client: ConciergeClient | None = None
        self._inbox: Inbox | None = None

    @property
    def client(self) -> ConciergeClient | None:
        """The running discord.py client, or None before `run` and after it returns."""
        return self._client

    def build_client(self) -> ConciergeClient:
        """Return a new discord.py client wired to this channel (sharded when shards are given)."""
        options = client_options(self.settings.message_content_intent)
        # Concierge never joins voice, so the missing voice libraries need no warning at every start.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        client: ConciergeClient
        if self.shard_ids is not None or self.shard_count is not None:
            client = ShardedConciergeClient(self, shard_ids=self.shard_ids, shard_count=self.shard_count, **options)
        else:
            client = ConciergeClient(self, **options)
        pin_bot_gateway(client.http, self.settings.gateway_url)
        return client

    async def run(self, inbox: Inbox) -> None:
        """Connect to Discord and hand every event to `inbox` until cancelled or disconnected for good."""
        if self.settings.token is None or not self.settings.token.get_secret_value().strip():
            raise ValueError("discord token is not set: use [discord] token or DISCORD_TOKEN")
        self._inbox = inbox
        with discord_endpoints(self.settings.api_base, self.settings.gateway_url):
            client = self.build_client()
            self._client = client
            try:
                async with client:
                    await client.start(self.settings.token.get_secret_value().strip())
            except discord.LoginFailure:
                # The CLI reports a ValueError as one line; the token itself is never part of it.
                raise ValueError("Discord rejected the token: check DISCORD_TOKEN or [discord] token") from None
            except aiohttp.ClientConnectorError as error:
                raise ValueError(f"cannot reach Discord at {self.settings.api_base}: {_describe(error)}") from None
            except discord.PrivilegedIntentsRequired:
                raise ValueError(
                    "Discord refused the message content intent: enable it for the bot in the developer "
                    "portal, or set [discord] message_content_intent = false"
                ) from None
            finally:
                self._client = None

    # ---- inbound -------------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Serve a DM, a mention, or (with the content intent) a support-channel message."""
        client = self._client
        if client is None or client.user is None:
            return
        if in_desk_thread(message, client.user.id, self.settings.desk_channel_id):
            await self._receive(inbound_from_desk_thread(message, client.user.id))
            return
        if not should_serve(
            message,
            client.user.id,
            support_channel_id=self.settings.support_channel_id,
            content_intent=self.settings.message_content_intent,
        ):
            return
        await self._receive(inbound_from_message(message, client.user.id))

    async def on_button(self, interaction: discord.Interaction[Any], button_id: str, owner: str | None = None) -> None:
        """Answer the press at once by disabling the buttons, then hand it to the core.

        A press on buttons sent to someone else leaves the message as it is, so the owner can still press;
        the core's private notice answers that interaction instead.
        """
        if owner is not None and owner != str(interaction.user.id):
            # Held like a command: deferred privately if the core is slow, never answered publicly.
            async with self.pending.hold(interaction, command=True):
                await self._receive(inbound_from_button(interaction, button_id, owner))
            return
        try:
            await interaction.response.edit_message(
                view=disabled_view(interaction.message, custom_id_for(button_id, owner)),
                allowed_mentions=no_mentions(),
            )
        except discord.HTTPException as error:
            log.warning("could not acknowledge a button press: HTTP %s", error.status)
        inbound = inbound_from_button(interaction, button_id, owner)
        thread_id = await self._card_thread(interaction, button_id)
        if thread_id is not None:
            inbound = replace(inbound, thread_id=thread_id)
        async with self.pending.hold(interaction, command=False):
            await self._receive(inbound)

    async def _card_thread(self, interaction: discord.Interaction[Any], button_id: str) -> str | None:
        """Open (or find) the thread on a ticket card whose button was pressed; the ticket is worked there."""
        message = interaction.message
        desk = self.settings.desk_channel_id
        if message is None or desk is None or interaction.channel_id != desk or not is_desk_button(button_id):
            return None
        name = (message.content.split("\n", 1)[0] or "Ticket")[:100]
        try:
            thread = await message.create_thread(name=name)
        except discord.HTTPException as error:
            if error.code == THREAD_EXISTS:
                return str(message.id)  # a thread's id is its starter message's
            log.warning("could not open a thread on a ticket card: %s", _describe(error))
            return None
        except ValueError:
            return None  # no guild attached to the message: not a desk card
        return str(thread.id)

    async def on_command(self, interaction: discord.Interaction[Any], command: str, args: tuple[str, ...]) -> None:
        """Hand a slash command to the core; its replies answer the interaction."""
        async with self.pending.hold(interaction, command=True):
            await self._receive(inbound_from_command(interaction, command, args))

    async def _receive(self, inbound: Inbound) -> None:
        if self._inbox is None:
            return
        try:
            await self._inbox.receive(inbound)
        except Exception:
            log.exception("handling discord event %s failed", inbound.event_id)

    # ---- delivery ------------------------------------------------------------------------------

    async def deliver(self, reply: Reply) -> None:
        """Send a reply: as the user's pending interaction's answer, to its channel, or by DM."""
        if self._client is None:
            raise DeliveryError(f"discord is not connected; reply for conversation {reply.conversation_id} not sent")
        if dropped_buttons(reply):
            log.warning(
                "conversation %s: %d button(s) Discord cannot carry were left off",
                reply.conversation_id,
                dropped_buttons(reply),
            )
        pending = self.pending.get(reply.to)
        if pending is not None and (pending.command or reply.ephemeral) and _answers(pending, reply):
            try:
                await self._answer(pending, reply)
                return
            except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as error:
                log.warning(
                    "conversation %s: answering the interaction failed (%s); sending directly",
                    reply.conversation_id,
                    _describe(error),
                )
        try:
            await self._post(reply)
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError, ValueError) as error:
            log.error(
                "conversation %s: sending a %s reply to Discord failed: %s",
                reply.conversation_id,
                reply.kind,
                _describe(error),
            )
            raise DeliveryError(f"reply for conversation {reply.conversation_id} not sent") from None

    async def _answer(self, pending: PendingInteraction, reply: Reply) -> None:
        for part in reply_parts(reply):
            view = buttons_view(part.buttons)
            await pending.send(part.kwargs(view), ephemeral=reply.ephemeral)

    async def _post(self, reply: Reply) -> None:
        target = await self._target(reply)
        for part in reply_parts(reply):
            await _send_part(target, part)

    async def _target(self, reply: Reply) -> discord.abc.Messageable:
        client = self._client
        assert client is not None
        where = reply.thread_id or reply.channel_id
        if where is None and reply.to == DESK and self.settings.desk_channel_id is not None:
            where = str(self.settings.desk_channel_id)
        # An ephemeral reply with no interaction left to carry it goes privately, never to a channel.
        if where and not reply.ephemeral:
            return client.get_partial_messageable(int(where))
        user = discord.Object(id=int(reply.to))
        # discord.py caches the DM channel, so only the first reply to a user opens it.
        return await _with_retries(lambda: client.create_dm(user))


async def _with_retries(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a REST call, retrying when the connection to Discord could not be made."""
    for number in range(1, SEND_ATTEMPTS + 1):
        try:
            return await attempt()
        except aiohttp.ClientConnectorError as error:
            # discord.py already retries rate limits and 5xx; this covers a connection that could not
            # be made, where nothing reached Discord, so a retry cannot post the message twice.
            if number == SEND_ATTEMPTS:
                raise
            log.info("discord call failed (%s); retry %d", _describe(error), number)
            await asyncio.sleep(RETRY_DELAY_SECONDS * number)
    raise AssertionError("unreachable")


async def _send_part(target: discord.abc.Messageable, part: Part) -> None:
    """Send one part of a reply to a channel, retrying a connection that could not be made."""
    view = buttons_view(part.buttons)

    async def attempt() -> discord.Message:
        # Files are streams a failed attempt may have consumed, so each attempt rebuilds them.
        return await target.send(**part.kwargs(view))

    await _with_retries(attempt)


def _describe(error: BaseException) -> str:
    """Say what went wrong without URLs, which carry interaction tokens."""
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status} (code {error.code}) {error.text[:200]}"
    return type(error).__name__


def _answers(pending: PendingInteraction, reply: Reply) -> bool:
    """Tell whether a reply belongs where the user's pending interaction was made.

    A reply about a conversation elsewhere (a DM answered moments after a command in a server channel)
    must not become a followup there, where everyone in the channel would see it.
    """
    return reply.channel_id is None or reply.channel_id == str(pending.interaction.channel_id)
