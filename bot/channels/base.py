"""What every platform adapter provides, and what it may call."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from handlers.messages import Inbound, Reply


class Inbox(Protocol):
    """Where an adapter hands what a user did; the hub runs the core and delivers every reply."""

    async def receive(self, inbound: Inbound) -> None: ...


class Channel(Protocol):
    """One platform connection: runs until cancelled, and delivers replies addressed to its platform."""

    platform: str

    async def run(self, inbox: Inbox) -> None: ...

    async def deliver(self, reply: Reply) -> None: ...


@runtime_checkable
class Apologising(Protocol):
    """An inbox that can tell a user their message is taken but the answer will be late."""

    async def apologise(self, inbound: Inbound) -> None: ...
