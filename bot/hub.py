"""The hub between adapters and the core: runs each inbound through the core, delivers every reply.

Replies may be for another platform than the one that asked (an agent on the Slack desk serving a
Discord customer), so delivery goes through the hub, never straight back through the caller.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable, Sequence
from typing import Protocol

from bot.channels.base import Channel
from handlers.messages import Inbound, Reply

log = logging.getLogger(__name__)


class Core(Protocol):
    """The part of the core the hub drives."""

    async def handle(self, inbound: Inbound) -> list[Reply]: ...

    async def fire_due_followups(self) -> list[Reply]: ...


class Hub:
    """Serialise each user's messages, run them through the core and deliver the replies."""

    def __init__(self, core: Core, channels: Sequence[Channel] = ()) -> None:
        self.core = core
        self.channels: dict[str, Channel] = {channel.platform: channel for channel in channels}
        # Weak values: a user's lock lives only while one of their messages is being handled.
        self._user_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def attach(self, channel: Channel) -> None:
        """Register a channel so replies for its platform reach it."""
        self.channels[channel.platform] = channel

    async def receive(self, inbound: Inbound) -> None:
        """Handle one inbound in order with the same user's others, then deliver the replies."""
        lock = self._user_locks.get(inbound.user_key)
        if lock is None:
            lock = self._user_locks[inbound.user_key] = asyncio.Lock()
        async with lock:
            replies = await self.core.handle(inbound)
            await self.deliver(replies)

    async def deliver(self, replies: Iterable[Reply]) -> None:
        """Send each reply through the channel of its platform; a failed send is logged, not raised."""
        for reply in replies:
            channel = self.channels.get(reply.platform)
            if channel is None:
                log.warning("no %s channel running; reply to conversation %s not sent",
                            reply.platform, reply.conversation_id)
                continue
            try:
                await channel.deliver(reply)
            except Exception:
                log.exception("sending a %s reply for conversation %s failed", reply.kind, reply.conversation_id)

    async def run_followups(self, every_seconds: float = 30.0) -> None:
        """Fire due follow-ups forever, every `every_seconds`."""
        while True:
            try:
                await self.deliver(await self.core.fire_due_followups())
            except Exception:
                log.exception("follow-up round failed; retrying next round")
            await asyncio.sleep(every_seconds)
