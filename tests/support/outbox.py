"""What the outbox still holds: the stored replies no channel has accepted yet."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Message
from storage.unit_of_work import UnitOfWorkFactory


async def unsent_texts(unit_of_work: UnitOfWorkFactory) -> list[str]:
    """Return the text of every outbound message not yet marked sent."""
    async with unit_of_work() as uow:
        query = select(Message.text).where(Message.direction == "out", Message.sent_at.is_(None))
        return list((await uow.session.scalars(query)).all())  # type: ignore[attr-defined]
