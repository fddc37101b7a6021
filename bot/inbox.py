"""The adapters' inbox over the database: an event is stored before it is acknowledged, dropped once handled."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

from handlers.messages import Inbound
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)
# Handled events are deleted together this often, instead of one write each between the acks' writes.
DROP_EVERY = 0.1


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
        # One writer at a time, in arrival order: on SQLite, competing writers would meet in SQLite's busy
        # wait, which sleeps in steps of up to 100 ms, and the ack waits on the store.
        self._writing = asyncio.Lock()
        self._handled: set[int] = set()
        self._to_store: list[tuple[str, dict[str, Any], asyncio.Future[int | None]]] = []
        self._storing: asyncio.Task[None] | None = None
        self._leading = False
        self._dropping: asyncio.Task[None] | None = None

    async def store(self, inbound: Inbound) -> int | None:
        """Store an event; None when the same delivery is already pending. Raises if it could not be stored.

        Events arriving together are stored together, in one statement and one commit (group commit):
        a burst of acks waits for one write, not for one write each.
        """
        # An event without a platform id gets one of its own, so every stored event has a key.
        key = f"{inbound.platform}:{inbound.event_id or 'local-' + uuid.uuid4().hex}"
        waiting: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._to_store.append((key, _payload(inbound), waiting))
        if self._leading:
            return await waiting
        # No write under way: this call writes, itself, what is waiting (a task would cost a turn of the
        # event loop, which a busy core makes long).
        self._leading = True
        try:
            await self._store_waiting(until=waiting)
        finally:
            self._leading = False
            if self._to_store and (self._storing is None or self._storing.done()):
                # Events that came in during the last write (or this call was cancelled): a task stores them.
                self._storing = asyncio.create_task(self._store_waiting())
        return await waiting

    async def _store_waiting(self, until: asyncio.Future[int | None] | None = None) -> None:
        while self._to_store and (until is None or not until.done()):
            batch, self._to_store = self._to_store, []
            try:
                async with self._writing, self.unit_of_work() as uow:
                    stored = await uow.inbox.store([(key, payload) for key, payload, _ in batch], self.clock())
                    await uow.commit()
            except Exception as error:
                for _, _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(error)
                continue
            for key, _, waiting in batch:
                # The first of a key gets its id; the same delivery twice in one batch is stored once.
                event_id = stored.pop(key, None)
                if not waiting.done():
                    waiting.set_result(event_id)

    async def done(self, event_id: int) -> None:
        """Drop a handled event, soon, with the others handled meanwhile (one statement for them all).

        Deleting later costs nothing if the process dies first: the event is handled again, and the core
        drops a delivery it has seen.
        """
        self._handled.add(event_id)
        if self._dropping is None or self._dropping.done():
            self._dropping = asyncio.create_task(self._drop_handled())

    async def _drop_handled(self) -> None:
        await asyncio.sleep(DROP_EVERY)
        async with self._writing:
            handled, self._handled = sorted(self._handled), set()
            try:
                async with self.unit_of_work() as uow:
                    await uow.inbox.done(handled)
                    await uow.commit()
            except Exception:
                self._handled.update(handled)
                log.warning("could not drop %d handled events from the inbox; trying again later", len(handled))

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
