"""The hub between adapters and the core: runs each inbound through the core, delivers every reply.

Replies may be for another platform than the one that asked (an agent on the Slack desk serving a
Discord customer), so delivery goes through the hub, never straight back through the caller.

With an outbox, every stored reply is marked sent once its channel accepted it, and a sweep sends
again what is still unsent a while later (a crash between commit and send, a platform outage).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from bot.channels.base import Channel
from handlers.messages import Inbound, Kind, Reply
from handlers.relay_failure import is_relayed

log = logging.getLogger(__name__)
# One apology per user in this long, however many of their messages wait for a database that is down.
APOLOGY_EVERY = 300.0
# Customers whose unsent messages one sweep sends side by side; each holds a database connection meanwhile.
SWEEP_CUSTOMERS_AT_ONCE = 8
# Pauses before each further attempt at a person's words the platform refused; an agent waits on them.
RELAY_RETRIES = (0.5, 2.0)

Send = Callable[[Reply], Awaitable[bool]]


class Core(Protocol):
    """The part of the core the hub drives."""

    async def handle(self, inbound: Inbound) -> list[Reply]: ...

    async def fire_due_followups(self) -> list[Reply]: ...


class Outbox(Protocol):
    """Stored outbound messages: mark them sent, find the ones left unsent, send one again."""

    async def mark_sent(self, message_ids: Sequence[int]) -> None: ...

    async def unsent(self, platforms: Sequence[str]) -> list[tuple[int, str]]: ...

    async def resend(self, message_id: int, send: Send) -> bool: ...


class Relaying(Protocol):
    """A core that builds the desk's notice when a person's words could not reach the customer."""

    async def relay_failed(self, reply: Reply) -> list[Reply]: ...


class Confirming(Protocol):
    """A channel that can tell whether a stored message already reached the platform."""

    async def delivered(self, reply: Reply) -> bool: ...


class Hub:
    """Serialise each user's messages, run them through the core and deliver the replies."""

    def __init__(
        self, core: Core, channels: Sequence[Channel] = (), outbox: Outbox | None = None,
        unavailable: str | None = None, relay_retries: Sequence[float] = RELAY_RETRIES,
    ) -> None:
        self.core = core
        self.relay_retries = tuple(relay_retries)
        self.outbox = outbox
        self.unavailable = unavailable
        self._apologised: dict[str, float] = {}
        self.channels: dict[str, Channel] = {channel.platform: channel for channel in channels}
        # Weak values: a user's lock lives only while one of their messages is being handled.
        self._user_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def attach(self, channel: Channel) -> None:
        """Register a channel so replies for its platform reach it."""
        self.channels[channel.platform] = channel

    def _lock(self, user_key: str) -> asyncio.Lock:
        lock = self._user_locks.get(user_key)
        if lock is None:
            lock = self._user_locks[user_key] = asyncio.Lock()
        return lock

    async def receive(self, inbound: Inbound) -> None:
        """Handle one inbound in order with the same user's others, then deliver the replies."""
        # The lock also keeps the outbox sweep off this user's replies until they are sent and marked.
        async with self._lock(inbound.user_key):
            replies = await self.core.handle(inbound)
            await self.deliver(replies)

    async def apologise(self, inbound: Inbound) -> None:
        """Tell the user (once in a while) that their message is kept and the answer will come later.

        Called by channels that keep what they acknowledged (Slack over HTTP) when the database fails;
        the notice is not stored, since storing is what failed.
        """
        now = time.monotonic()
        # Forget old apologies, so the map holds only users told within the last few minutes.
        self._apologised = {key: at for key, at in self._apologised.items() if now - at < APOLOGY_EVERY}
        if self.unavailable is None or inbound.user_key in self._apologised:
            return
        self._apologised[inbound.user_key] = now
        await self._send(Reply(inbound.platform, inbound.user_id, Kind.NOTICE, self.unavailable,
                               channel_id=inbound.channel_id, thread_id=inbound.thread_id))

    async def deliver(self, replies: Iterable[Reply]) -> None:
        """Send each reply through the channel of its platform, then mark the stored ones sent.

        A failed send is logged, not raised; its stored row stays unsent for the sweep to retry. A
        person's words are tried again at once, and if they still fail the desk is told.
        """
        sent: list[int] = []
        refused: list[Reply] = []
        for reply in replies:
            send = self._send_relay if is_relayed(reply) else self._send
            if await send(reply):
                if reply.message_id is not None:
                    sent.append(reply.message_id)
            elif is_relayed(reply):
                refused.append(reply)
        await self._mark_sent(sent)
        await self._tell_desk(refused)

    async def _send_relay(self, reply: Reply) -> bool:
        """Send a person's words, trying again after each pause of `relay_retries` while the platform refuses."""
        if await self._send(reply):
            return True
        for pause in self.relay_retries:
            await asyncio.sleep(pause)
            if await self._send(reply):
                return True
        return False

    async def _tell_desk(self, refused: list[Reply]) -> None:
        """Deliver the core's notice about each person's message that did not reach its customer."""
        relaying: Relaying | None = self.core if hasattr(self.core, "relay_failed") else None  # type: ignore[assignment]
        if relaying is None:
            return
        for reply in refused:
            try:
                notices = await relaying.relay_failed(reply)
            except Exception:
                log.exception("building the desk notice for an unsent relay in conversation %s failed",
                              reply.conversation_id)
                continue
            for notice in notices:
                await self._send(notice)

    async def _send(self, reply: Reply) -> bool:
        channel = self.channels.get(reply.platform)
        if channel is None:
            log.warning("no %s channel running; reply to conversation %s not sent",
                        reply.platform, reply.conversation_id)
            return False
        try:
            await channel.deliver(reply)
        except Exception:
            log.exception("sending a %s reply for conversation %s failed", reply.kind, reply.conversation_id)
            return False
        return True

    async def _mark_sent(self, message_ids: list[int]) -> None:
        if self.outbox is None or not message_ids:
            return
        try:
            await self.outbox.mark_sent(message_ids)
        except Exception:
            # Sent but not marked: the sweep finds them; a confirming channel then sends nothing twice.
            log.exception("marking %d sent messages failed; the outbox sweep will settle them", len(message_ids))

    async def run_followups(self, every_seconds: float = 30.0) -> None:
        """Fire due follow-ups forever, every `every_seconds`."""
        while True:
            try:
                await self.deliver(await self.core.fire_due_followups())
            except Exception:
                log.exception("follow-up round failed; retrying next round")
            await asyncio.sleep(every_seconds)

    async def run_outbox(self, every_seconds: float = 10.0, first_after: float = 1.0) -> None:
        """Send again, forever, what the outbox still holds unsent: soon after start, then every `every_seconds`."""
        await asyncio.sleep(first_after)
        while True:
            try:
                resent = await self.sweep()
                if resent:
                    log.info("outbox: %d unsent messages delivered again", resent)
            except Exception:
                log.exception("outbox sweep failed; retrying next round")
            await asyncio.sleep(every_seconds)

    async def sweep(self) -> int:
        """Deliver the unsent messages of the channels running here, each under its customer's lock.

        Customers are swept side by side (a crash can leave dozens waiting); one customer's messages
        go in the order they were written.
        """
        if self.outbox is None:
            return 0
        outbox = self.outbox
        by_customer: dict[str, list[int]] = {}
        for message_id, customer_key in await outbox.unsent(sorted(self.channels)):
            by_customer.setdefault(customer_key, []).append(message_id)
        gate = asyncio.Semaphore(SWEEP_CUSTOMERS_AT_ONCE)

        async def sweep_customer(customer_key: str, message_ids: list[int]) -> int:
            async with gate, self._lock(customer_key):
                return sum([await outbox.resend(message_id, self._resend) for message_id in message_ids])

        return sum(await asyncio.gather(*(sweep_customer(key, ids) for key, ids in by_customer.items())))

    async def _resend(self, reply: Reply) -> bool:
        channel = self.channels.get(reply.platform)
        confirming: Confirming | None = channel if hasattr(channel, "delivered") else None  # type: ignore[assignment]
        if confirming is not None and await confirming.delivered(reply):
            log.info("outbox: message %s had reached %s already; not sent twice", reply.message_id, reply.platform)
            return True
        return await self._send(reply)
