"""The per-row facts the stats read (kept by database triggers) agree with the raw rows, whatever the write order.

`ratings.with_offer`, `offers.best_rating_before`, `offers.positive_followup_before` (migration 0007) and
`conversations.previous_opened_at` (migration 0009) are written only by triggers. Rows here are written in
the awkward orders a bulk load, a clock skew, a changed answer or an erasure produce; after each step the
stats figures must equal the same figures computed straight from the rows, and hand-counted values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, Customer, FollowUp, Offer, Rating
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

MIN_RATING = 4
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def raw_figures(session: AsyncSession) -> dict[str, Any]:
    """The audited figures straight from the rows: probes per offer and per rating, no kept facts."""
    satisfied_before = exists().where(Rating.conversation_id == Offer.conversation_id,
                                      Rating.score >= MIN_RATING, Rating.created_at <= Offer.created_at)
    yes_before = exists().where(FollowUp.customer_id == Offer.customer_id, FollowUp.status == "yes",
                                FollowUp.answered_at <= Offer.created_at)
    against = await session.scalar(select(func.count(Offer.id)).where(
        or_(Offer.allowed.is_(False), and_(~satisfied_before, ~yes_before))))
    offered = exists().where(Offer.conversation_id == Rating.conversation_id)
    scores: dict[bool, list[int]] = {True: [], False: []}
    for score, had_offer in (await session.execute(select(Rating.score, offered))).all():
        scores[bool(had_offer)].append(score)

    def average(values: list[int]) -> float | None:
        return round(sum(values) / len(values), 2) if values else None

    return {"offers_to_unsatisfied": against, "csat_with_offer": average(scores[True]),
            "csat_without_offer": average(scores[False])}


async def stats_figures(uow: UnitOfWork) -> dict[str, Any]:
    figures = await uow.stats(None, MIN_RATING).figures()
    return {key: figures[key] for key in ("offers_to_unsatisfied", "csat_with_offer", "csat_without_offer")}


class History:
    """Writes rows the way the engine's repositories would, one committed step at a time."""

    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        self.unit_of_work = unit_of_work
        self.conversations: dict[str, tuple[int, int]] = {}

    async def step(self, *changes: Any) -> dict[str, Any]:
        """Apply the changes (ORM rows to add, or statements), commit, and return the stats and raw figures."""
        async with self.unit_of_work() as uow:
            session: AsyncSession = uow.session  # type: ignore[attr-defined]
            for change in changes:
                if isinstance(change, Customer | Conversation | Rating | Offer | FollowUp):
                    session.add(change)
                    await session.flush()
                else:
                    await session.execute(change)
            await uow.commit()
        async with self.unit_of_work() as uow:
            figures = await stats_figures(uow)
            assert figures == await raw_figures(uow.session)  # type: ignore[attr-defined]
            return figures

    async def conversation(self, name: str) -> None:
        """Add a customer with one conversation, remembered by name."""
        async with self.unit_of_work() as uow:
            session: AsyncSession = uow.session  # type: ignore[attr-defined]
            customer = Customer(key=f"test:{name}", created_at=T0)
            session.add(customer)
            await session.flush()
            conversation = Conversation(customer_id=customer.id, state="closed", opened_at=T0, last_message_at=T0)
            session.add(conversation)
            await session.flush()
            self.conversations[name] = (customer.id, conversation.id)
            await uow.commit()

    def rating(self, name: str, score: int, seconds: float) -> Rating:
        customer, conversation = self.conversations[name]
        return Rating(conversation_id=conversation, customer_id=customer, score=score, created_at=at(seconds))

    def offer(self, name: str, seconds: float) -> Offer:
        customer, conversation = self.conversations[name]
        return Offer(customer_id=customer, conversation_id=conversation, kind="product", sku="BAT-2",
                     reason="serves battery", allowed=True, status="made", created_at=at(seconds))

    def followup(self, name: str) -> FollowUp:
        customer, conversation = self.conversations[name]
        return FollowUp(customer_id=customer, conversation_id=conversation, due_at=T0, status="sent", sent_at=T0)


async def test_kept_facts_match_the_rows_in_any_write_order(unit_of_work: UnitOfWorkFactory) -> None:
    history = History(unit_of_work)
    for name in ("ana", "ben", "cai", "dan", "eve"):
        await history.conversation(name)

    # Ana: the offer is stored before the rating that came earlier (a bulk load, a skewed clock): satisfied.
    assert await history.step(history.offer("ana", 10)) == {
        "offers_to_unsatisfied": 1, "csat_with_offer": None, "csat_without_offer": None}
    assert await history.step(history.rating("ana", 5, 5)) == {
        "offers_to_unsatisfied": 0, "csat_with_offer": 5.0, "csat_without_offer": None}
    # Ben: rated 5 only after the offer was made: the offer stays against the rules; the rating had an offer.
    await history.step(history.rating("ben", 5, 20))
    assert (await history.step(history.offer("ben", 10)))["offers_to_unsatisfied"] == 1

    # Cai: rated 2, offered anyway; a "yes" follow-up answered before the offer makes it allowed, until the
    # answer is changed to "no".
    followup = history.followup("cai")
    assert (await history.step(history.rating("cai", 2, 1), history.offer("cai", 2), followup)
            )["offers_to_unsatisfied"] == 2
    said_yes = update(FollowUp).where(FollowUp.id == followup.id).values(status="yes", answered_at=at(1))
    assert (await history.step(said_yes))["offers_to_unsatisfied"] == 1
    said_no = update(FollowUp).where(FollowUp.id == followup.id).values(status="no")
    assert (await history.step(said_no))["offers_to_unsatisfied"] == 2

    # Dan: two offers in one conversation; the rating counts as "with an offer" until the last one is deleted.
    first, second = history.offer("dan", 30), history.offer("dan", 31)
    await history.step(history.rating("dan", 3, 29), first, second)
    assert (await history.step(delete(Offer).where(Offer.id == first.id)))["csat_without_offer"] is None
    assert (await history.step(delete(Offer).where(Offer.id == second.id)))["csat_without_offer"] == 3.0

    # Eve: a satisfied offer loses its rating (deleted): against the rules from then on.
    rating = history.rating("eve", 5, 40)
    assert (await history.step(rating, history.offer("eve", 41)))["offers_to_unsatisfied"] == 2
    final = await history.step(delete(Rating).where(Rating.id == rating.id))

    # Against the rules: Ben's (rated after), Cai's (rated 2, follow-up said no), Eve's (rating gone).
    # With an offer: Ana 5, Ben 5, Cai 2; without: Dan 3.
    assert final == {"offers_to_unsatisfied": 3, "csat_with_offer": 4.0, "csat_without_offer": 3.0}


async def test_erasing_a_customer_keeps_the_others_facts(unit_of_work: UnitOfWorkFactory) -> None:
    history = History(unit_of_work)
    for name in ("ana", "ben"):
        await history.conversation(name)
    await history.step(history.rating("ana", 5, 1), history.offer("ana", 2),
                       history.rating("ben", 1, 1), history.offer("ben", 2))
    ben = history.conversations["ben"][0]
    # The cascade deletes Ben's conversation, rating and offer; the triggers run on rows being deleted.
    final = await history.step(delete(Customer).where(Customer.id == ben))
    assert final == {"offers_to_unsatisfied": 0, "csat_with_offer": 5.0, "csat_without_offer": None}


async def raw_customers(session: AsyncSession, since: datetime | None, until: datetime | None) -> tuple[int, ...]:
    """Conversations, customers and customers with more than one in the period, by grouping the rows."""
    period = [Conversation.opened_at >= since] if since else []
    period += [Conversation.opened_at < until] if until else []
    per_customer = (select(func.count().label("n")).select_from(Conversation).where(*period)
                    .group_by(Conversation.customer_id).subquery())
    total, customers, repeat = (await session.execute(select(
        func.coalesce(func.sum(per_customer.c.n), 0), func.count(), func.count().filter(per_customer.c.n > 1)
    ))).one()
    return int(total), int(customers), int(repeat)


PERIODS = [(None, None), (at(12), at(26)), (at(20), None), (None, at(3)), (at(15), at(15.5))]


async def customer_figures(unit_of_work: UnitOfWorkFactory) -> list[tuple[int, ...]]:
    """The stats' counts for every period, each checked against the grouped rows."""
    counted: list[tuple[int, ...]] = []
    async with unit_of_work() as uow:
        for since, until in PERIODS:
            figures = await uow.stats(since, MIN_RATING).before(until).figures()
            mine = (figures["conversations"], figures["customers"], figures["repeat_customers"])
            assert mine == await raw_customers(uow.session, since, until), (since, until)  # type: ignore[attr-defined]
            counted.append(mine)
    return counted


async def test_customer_counts_match_the_rows_in_any_write_order(unit_of_work: UnitOfWorkFactory) -> None:
    async with unit_of_work() as uow:
        session: AsyncSession = uow.session  # type: ignore[attr-defined]
        customers = {name: Customer(key=f"test:{name}", created_at=T0)
                     for name in ("ana", "ben", "cai")}
        session.add_all(customers.values())
        await session.flush()
        ids = {name: customer.id for name, customer in customers.items()}
        await uow.commit()

    async def open_at(name: str, *seconds: float) -> list[int]:
        async with unit_of_work() as uow:
            session: AsyncSession = uow.session  # type: ignore[attr-defined]
            rows = [Conversation(customer_id=ids[name], state="closed", opened_at=at(s), last_message_at=at(s))
                    for s in seconds]
            for row in rows:  # one at a time: each insert sees the ones before it
                session.add(row)
                await session.flush()
            await uow.commit()
            return [row.id for row in rows]

    # Out of time order, as a bulk load or skewed clocks write them; Cai opens two at the same instant.
    ana = await open_at("ana", 10, 30, 20)
    await open_at("ben", 25)
    await open_at("cai", 15, 15, 1)
    await open_at("ana", 5)
    assert await customer_figures(unit_of_work) == [(8, 3, 2), (4, 3, 1), (3, 2, 1), (1, 1, 0), (2, 1, 1)]

    # Two neighbours deleted in one statement (Ana's 20 and 30), then a customer erased (Ben, by cascade).
    async with unit_of_work() as uow:
        await uow.session.execute(delete(Conversation).where(Conversation.id.in_(ana[1:])))  # type: ignore[attr-defined]
        await uow.commit()
    assert await customer_figures(unit_of_work) == [(6, 3, 2), (3, 2, 1), (1, 1, 0), (1, 1, 0), (2, 1, 1)]
    async with unit_of_work() as uow:
        await uow.session.execute(delete(Customer).where(Customer.id == ids["ben"]))  # type: ignore[attr-defined]
        await uow.commit()
    assert await customer_figures(unit_of_work) == [(5, 2, 2), (2, 1, 1), (0, 0, 0), (1, 1, 0), (2, 1, 1)]
