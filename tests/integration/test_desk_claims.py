"""Twenty agents claim one ticket at the same moment: the database lets exactly one of them have it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from storage.models import Conversation, Customer, Handoff
from storage.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
AGENTS = 20


async def _queued_ticket(unit_of_work: UnitOfWorkFactory) -> int:
    async with unit_of_work() as uow:
        customer = await uow.customers.add(Customer(key="console:ana", display_name=None, opted_out=False,
                                                    vip=False, created_at=NOW))
        conversation = await uow.conversations.add(Conversation(
            customer_id=customer.id, state="with_person", context={}, failed_attempts=0, frustrated=False,
            opened_at=NOW, last_message_at=NOW, closed_at=None,
        ))
        ticket = await uow.handoffs.add(Handoff(
            conversation_id=conversation.id, customer_id=customer.id, reason="asked", priority=0, status="queued",
            agent_key=None, created_at=NOW, claimed_at=None, first_reply_at=None, ended_at=None,
        ))
        await uow.commit()
        return ticket.id


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_twenty_concurrent_claims_end_with_one_owner(unit_of_work: UnitOfWorkFactory) -> None:
    ticket_id = await _queued_ticket(unit_of_work)
    start = asyncio.Event()

    async def claim(agent: str) -> bool:
        async with unit_of_work() as uow:
            # Every transaction has read the queued ticket before any of them claims it.
            ticket = await uow.handoffs.get(ticket_id)
            assert ticket is not None and ticket.status == "queued"
            await start.wait()
            won = await uow.handoffs.claim(ticket_id, agent, NOW)
            await uow.commit()
            return won

    tasks = [asyncio.create_task(claim(f"console:agent{n}")) for n in range(AGENTS)]
    await asyncio.sleep(0.5)
    start.set()
    results = await asyncio.gather(*tasks)

    assert sum(results) == 1
    winner = f"console:agent{results.index(True)}"
    async with unit_of_work() as uow:
        ticket = await uow.handoffs.get(ticket_id)
        assert ticket is not None and (ticket.status, ticket.agent_key) == ("claimed", winner)


async def test_a_claimed_ticket_cannot_be_claimed_again(unit_of_work: UnitOfWorkFactory) -> None:
    ticket_id = await _queued_ticket(unit_of_work)
    for agent, expected in (("console:a", True), ("console:b", False), ("console:a", False)):
        async with unit_of_work() as uow:
            assert await uow.handoffs.claim(ticket_id, agent, NOW) is expected
            await uow.commit()
    async with unit_of_work() as uow:
        assert await uow.handoffs.transfer(ticket_id, "console:b", "console:c") is False
        assert await uow.handoffs.transfer(ticket_id, "console:a", "console:c") is True
        await uow.commit()
        assert (await uow.handoffs.fresh(ticket_id)).agent_key == "console:c"  # type: ignore[union-attr]
