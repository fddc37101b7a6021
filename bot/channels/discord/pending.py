"""Interactions waiting for the core's answer, so a reply can go back as the interaction's response.

Discord wants an answer to an interaction within 3 seconds, and ephemeral messages exist only as
interaction responses; the core answers through the hub a moment later. Each user's latest
interaction is kept here while its inbound runs (and a short grace after), and deferred when the
core is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import discord

log = logging.getLogger(__name__)

# Discord's deadline is 3 s from its side; leave room for the round trip.
DEFER_AFTER_SECONDS = 2.0
GRACE_SECONDS = 5.0


class PendingInteraction:
    """One interaction that may still carry replies: as its response first, then as followups."""

    def __init__(self, interaction: discord.Interaction[Any], *, command: bool) -> None:
        self.interaction = interaction
        self.command = command
        self.answered = False
        self._lock = asyncio.Lock()

    async def defer(self) -> None:
        """Acknowledge the interaction privately, so a slow core does not make Discord call it failed."""
        async with self._lock:
            if self.interaction.response.is_done():
                return
            # Privately: the visibility of a deferred response is fixed now, before the core has
            # said whether its answer is for everyone, and a refusal must never show publicly.
            await self.interaction.response.defer(ephemeral=True, thinking=True)

    async def send(self, kwargs: dict[str, Any], *, ephemeral: bool) -> None:
        """Send one message as the interaction's response, or as a followup once it has one."""
        async with self._lock:
            if not self.interaction.response.is_done():
                await self.interaction.response.send_message(ephemeral=ephemeral, **kwargs)
            else:
                await self.interaction.followup.send(ephemeral=ephemeral, **kwargs)
            self.answered = True

    async def close_silently(self) -> None:
        """Acknowledge a command the core answered with nothing, leaving no message behind."""
        async with self._lock:
            if self.answered:
                return
            try:
                if not self.interaction.response.is_done():
                    await self.interaction.response.defer(ephemeral=True, thinking=True)
                await self.interaction.delete_original_response()
            except discord.HTTPException as error:
                log.debug("could not clear an unanswered command: HTTP %s", error.status)


class PendingInteractions:
    """The latest pending interaction of each user, by Discord user id."""

    def __init__(self, defer_after: float = DEFER_AFTER_SECONDS, grace: float = GRACE_SECONDS) -> None:
        self.defer_after = defer_after
        self.grace = grace
        self._by_user: dict[str, PendingInteraction] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, user_id: str) -> PendingInteraction | None:
        """Return the user's pending interaction, if any."""
        return self._by_user.get(user_id)

    def __len__(self) -> int:
        return len(self._by_user)

    @contextlib.asynccontextmanager
    async def hold(self, interaction: discord.Interaction[Any], *, command: bool) -> AsyncIterator[PendingInteraction]:
        """Keep the interaction pending while the block runs; a command is deferred if it runs long."""
        user_id = str(interaction.user.id)
        pending = PendingInteraction(interaction, command=command)
        self._by_user[user_id] = pending
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.defer_after, lambda: self._spawn(pending.defer())) if command else None
        try:
            yield pending
        finally:
            if timer is not None:
                timer.cancel()
            if command and not pending.answered:
                self._spawn(pending.close_silently())
            loop.call_later(self.grace, self._forget, user_id, pending)

    def _forget(self, user_id: str, pending: PendingInteraction) -> None:
        if self._by_user.get(user_id) is pending:
            del self._by_user[user_id]

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(self._quietly(coroutine))
        # Keep a reference: the loop holds tasks only weakly.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _quietly(coroutine: Coroutine[Any, Any, None]) -> None:
        try:
            await coroutine
        except discord.HTTPException as error:
            log.warning("acknowledging an interaction failed: HTTP %s", error.status)
        except Exception:
            log.exception("acknowledging an interaction failed")
