"""Handoff wait percentiles: the median of an even count averages the middle two; p90 takes the nearest rank."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.models import Conversation, Customer, Handoff
from storage.unit_of_work import UnitOfWorkFactory

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(("waits", "expected"), [
    ([40, 10, 30, 20], (25.0, 40.0)),
    ([7, 1, 9, 3, 10, 5, 2, 8, 6, 4], (5.5, 9.0)),
    ([12.5], (12.5, 12.5)),
], ids=["four", "ten", "one"])
async def test_wait_median_and_p90_by_rank(unit_of_work: UnitOfWorkFactory, waits: list[float],
                                           expected: tuple[float, float]) -> None:
    async with unit_of_work() as uow:
        session = uow.session  # type: ignore[attr-defined]
        customer = Customer(key="test:waits", created_at=T0)
        session.add(customer)
        await session.flush()
        conversation = Conversation(customer_id=customer.id, state="closed", opened_at=T0, last_message_at=T0)
        session.add(conversation)
        await session.flush()
        for n, seconds in enumerate(waits):
            created = T0 + timedelta(minutes=n)
            # Every other one only claimed, never replied to: the claim ends its wait.
            answered = created + timedelta(seconds=seconds)
            session.add(Handoff(conversation_id=conversation.id, customer_id=customer.id, reason="asked", priority=0,
                                status="closed", agent_key="slack:A", created_at=created, claimed_at=answered,
                                first_reply_at=answered if n % 2 else None))
        # Never answered: counted as handed off, not as a wait.
        session.add(Handoff(conversation_id=conversation.id, customer_id=customer.id, reason="asked", priority=0,
                            status="queued", created_at=T0))
        await uow.commit()
    async with unit_of_work() as uow:
        figures = await uow.stats(None, 4).figures()
    assert (figures["handoff_wait_seconds_p50"], figures["handoff_wait_seconds_p90"]) == expected
    assert figures["handed_off"] == len(waits) + 1
