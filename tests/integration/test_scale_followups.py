"""Three schedulers on one PostgreSQL database: 500 due follow-ups, each sent exactly once.

Each scheduler has its own engine (its own connection pool, as a separate process would) and fires due
follow-ups in a loop until a round finds none; `FOR UPDATE SKIP LOCKED` must keep them from sending
the same check-in twice.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from handlers.app import Concierge
from handlers.messages import Reply
from handlers.turn import Services
from storage.database import create_engine, session_factory, upgrade
from storage.models import Conversation, Customer, FollowUp, Message, Need
from storage.unit_of_work import SqlUnitOfWork, UnitOfWork
from tests.support.databases import fresh_postgres_database, skip_without_postgres

pytestmark = pytest.mark.postgres

FOLLOWUPS = 500
SCHEDULERS = 3


async def seed(url: str, topic: str, now: datetime) -> None:
    """500 customers, each with a resolved need and a follow-up that fell due an hour ago."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(insert(Customer), [
                {"id": n + 1, "key": f"slack:UF{n:04d}", "display_name": f"Customer {n}", "opted_out": False,
                 "vip": False, "created_at": now - timedelta(days=5)}
                for n in range(FOLLOWUPS)])
            await connection.execute(insert(Conversation), [
                {"id": n + 1, "customer_id": n + 1, "state": "idle", "context": {}, "channel_id": f"DF{n:04d}",
                 "failed_attempts": 0, "frustrated": False, "opened_at": now - timedelta(days=4),
                 "last_message_at": now - timedelta(days=4), "closed_at": now - timedelta(days=4),
                 "close_reason": "resolved"} for n in range(FOLLOWUPS)])
            await connection.execute(insert(Need), [
                {"id": n + 1, "customer_id": n + 1, "conversation_id": n + 1, "topic": topic, "tags": [],
                 "words": "my battery won't charge", "status": "resolved", "attempts": 1,
                 "created_at": now - timedelta(days=4), "resolved_at": now - timedelta(days=4)}
                for n in range(FOLLOWUPS)])
            await connection.execute(insert(FollowUp), [
                {"customer_id": n + 1, "conversation_id": n + 1, "need_id": n + 1, "status": "scheduled",
                 "due_at": now - timedelta(hours=1, seconds=n)} for n in range(FOLLOWUPS)])
            for table in ("customers", "conversations", "needs"):
                await connection.exec_driver_sql(
                    f"select setval(pg_get_serial_sequence('{table}', 'id'), {FOLLOWUPS})")
    finally:
        await engine.dispose()


async def scheduler(url: str, services: Services) -> list[Reply]:
    """Fire due follow-ups until a round finds none, like `Hub.run_followups` without the sleep."""
    engine = create_engine(url)
    sessions = session_factory(engine)

    def unit_of_work() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    core = Concierge(unit_of_work, services, lambda: datetime.now(UTC))
    sent: list[Reply] = []
    try:
        while replies := await core.fire_due_followups():
            sent.extend(replies)
            await asyncio.sleep(0)
    finally:
        await engine.dispose()
    return sent


def followup_id(reply: Reply) -> int:
    return int(reply.buttons[0].id.split(":")[1])


async def test_three_schedulers_send_each_due_followup_once(demo_services: Services) -> None:
    await skip_without_postgres()
    topic = demo_services.knowledge.intents[0].name
    async with fresh_postgres_database() as url:
        await seed(url, topic, datetime.now(UTC))
        rounds = await asyncio.gather(*(scheduler(url, demo_services) for _ in range(SCHEDULERS)))
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                statuses = dict((await connection.execute(
                    select(FollowUp.status, func.count()).group_by(FollowUp.status))).all())
                sent_messages = (await connection.execute(
                    select(func.count()).select_from(Message).where(Message.kind == "followup"))).scalar_one()
        finally:
            await engine.dispose()
    replies = [reply for sent in rounds for reply in sent]
    ids = [followup_id(reply) for reply in replies]
    assert len(ids) == FOLLOWUPS, f"{len(ids)} check-ins sent for {FOLLOWUPS} follow-ups"
    assert len(set(ids)) == FOLLOWUPS, "no follow-up sent twice"
    assert statuses == {"sent": FOLLOWUPS}
    assert sent_messages == FOLLOWUPS
    assert {reply.to for reply in replies} == {f"UF{n:04d}" for n in range(FOLLOWUPS)}
    print(f"\nfollow-ups sent by each scheduler: {[len(sent) for sent in rounds]}")
