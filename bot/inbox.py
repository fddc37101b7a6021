"""The adapters' inbox over the database: an event is stored before it is acknowledged, dropped once handled."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

from handlers.messages import Inbound
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class Journal(Protocol):
    """Where an adapter keeps what it acknowledged until the core has handled it."""

    async def store(self, inbound: Inbound) -> int | None: ...

    async def done(self, event_id: int) -> None: ...

    async def pending(self, older_than: timedelta) -> list[tuple[int, Inbound]]: ...


class SqlJournal:
    """The journal on the `inbound_events` table (see storage/inbox.py)."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, clock: Callable[[], datetime],
                 give_up_after: timedelta = timedelta(hours=24)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        # An event whose turn fails every time (a bug) is retried this long, not forever.
        self.give_up_after = give_up_after

    async def store(self, inbound: Inbound) -> int | None:
        """Store an event in its own short transaction; None when the same delivery is already pending."""
        key = f"{inbound.platform}:{inbound.event_id}" if inbound.event_id else None
        async with self.unit_of_work() as uow:
            event_id = await uow.inbox.store(key, _payload(inbound), self.clock())
            await uow.commit()
            return event_id

    async def done(self, event_id: int) -> None:
        """Drop a handled event."""
        async with self.unit_of_work() as uow:
            await uow.inbox.done([event_id])
            await uow.commit()

    async def pending(self, older_than: timedelta) -> list[tuple[int, Inbound]]:
        """Return the events stored more than `older_than` ago and not handled yet, oldest first."""
        async with self.unit_of_work() as uow:
            now = self.clock()
            rows = await uow.inbox.pending(now - older_than, now - self.give_up_after)
        return [(event_id, _inbound(payload)) for event_id, payload in rows]


def _payload(inbound: Inbound) -> dict[str, Any]:
    payload = asdict(inbound)
    payload["args"] = list(inbound.args)
    payload["received_at"] = inbound.received_at.isoformat() if inbound.received_at else None
    return payload


def _inbound(payload: dict[str, Any]) -> Inbound:
    known = {f.name for f in fields(Inbound)}
    values = {k: v for k, v in payload.items() if k in known}
    values["args"] = tuple(values.get("args") or ())
    received = values.get("received_at")
    values["received_at"] = datetime.fromisoformat(received) if received else None
    return Inbound(**values)
