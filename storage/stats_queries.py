"""Manager figures as SQL aggregates: each is one indexed query, never rows loaded into Python."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Conversation,
    Customer,
    FollowUp,
    Handoff,
    Need,
    Offer,
    Rating,
    ReferralCode,
    ReferralRedemption,
)


@dataclass(frozen=True)
class DailyPoint:
    """One day's satisfaction and offer figures, for the stats chart."""

    day: date
    ratings: int
    csat_average: float | None
    offers: int
    offers_accepted: int

    @property
    def conversion(self) -> float | None:
        """Return the share of the day's product offers that were accepted (None: no offers)."""
        return self.offers_accepted / self.offers if self.offers else None


class StatsQueries:
    """Compute the stats fields of DESIGN.md for conversations opened since a moment (None: all time)."""

    def __init__(self, session: AsyncSession, since: datetime | None, min_rating: int,
                 until: datetime | None = None) -> None:
        self.session = session
        self.since = since
        self.until = until
        self.min_rating = min_rating

    def before(self, until: datetime | None) -> StatsQueries:
        """Also bound the period at its end (exclusive); None leaves it open."""
        self.until = until
        return self

    async def figures(self) -> dict[str, Any]:
        """Return every figure, keyed by its contract name."""
        conversations, customers, repeat_customers = await self._conversations()
        csat = await self._ratings()
        offers_made, offers_accepted = (await self.session.execute(
            select(func.count(Offer.id), func.count(Offer.id).filter(Offer.status == "accepted"))
            .where(Offer.kind == "product", *self._within(Offer.created_at))
        )).one()
        needs = await self._needs()
        wait_p50, wait_p90 = await self._handoff_waits()
        return {
            "conversations": conversations,
            "customers": customers,
            "resolved_by_bot": needs["resolved"],
            "handed_off": await self._count(Handoff.id, *self._within(Handoff.created_at)),
            "unmet_needs": needs["unmet"],
            "csat_responses": csat["responses"],
            "csat_average": _average(csat["sum"], csat["responses"]),
            "satisfied_rate": round(csat["satisfied"] / csat["responses"], 4) if csat["responses"] else None,
            "followups_sent": await self._count(FollowUp.id, FollowUp.sent_at.is_not(None),
                                                *self._within(FollowUp.sent_at)),
            "followups_positive": await self._count(FollowUp.id, FollowUp.status == "yes",
                                                    *self._within(FollowUp.answered_at)),
            "offers_made": offers_made,
            "offers_accepted": offers_accepted,
            "offer_conversion": round(offers_accepted / offers_made, 4) if offers_made else None,
            "offers_to_unsatisfied": await self._count(Offer.id, *self._within(Offer.created_at),
                                                       self._against_rule_four()),
            "referrals_given": await self._count(ReferralCode.code, *self._within(ReferralCode.created_at)),
            "referrals_redeemed": await self._count(ReferralRedemption.id,
                                                    *self._within(ReferralRedemption.created_at)),
            "top_needs": needs["top"],
            "handoff_wait_seconds_p50": wait_p50,
            "handoff_wait_seconds_p90": wait_p90,
            "per_agent": await self._per_agent(),
            "csat_with_offer": _average(csat["offered_sum"], csat["offered"]),
            "csat_without_offer": _average(csat["sum"] - csat["offered_sum"], csat["responses"] - csat["offered"]),
            "repeat_customers": repeat_customers,
        }

    async def daily(self) -> list[DailyPoint]:
        """Return each day's average rating and product-offer figures, oldest first (days with neither left out)."""
        rating_day = self._day(Rating.created_at)
        ratings = {
            _as_date(day): (int(n), float(total)) for day, n, total in (await self.session.execute(
                select(rating_day, func.count(Rating.id), func.sum(Rating.score))
                .where(*self._within(Rating.created_at)).group_by(rating_day)
            )).all()
        }
        offer_day = self._day(Offer.created_at)
        offers = {
            _as_date(day): (int(n), int(accepted)) for day, n, accepted in (await self.session.execute(
                select(offer_day, func.count(Offer.id), func.count(Offer.id).filter(Offer.status == "accepted"))
                .where(Offer.kind == "product", *self._within(Offer.created_at)).group_by(offer_day)
            )).all()
        }
        points = []
        for day in sorted(ratings.keys() | offers.keys()):
            n_ratings, total = ratings.get(day, (0, 0.0))
            n_offers, accepted = offers.get(day, (0, 0))
            points.append(DailyPoint(day, n_ratings, round(total / n_ratings, 2) if n_ratings else None,
                                     n_offers, accepted))
        return points

    def _within(self, column: Any) -> tuple[ColumnElement[bool], ...]:
        start: ColumnElement[bool] = column >= self.since if self.since is not None else column.is_not(None)
        return (start,) if self.until is None else (start, column < self.until)

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _day(self, column: Any) -> ColumnElement[Any]:
        """Return the calendar day (UTC) of a stored time, in this database's own SQL."""
        if self._dialect() == "sqlite":
            return func.date(column).label("day")
        return func.date_trunc(literal_column("'day'"), column).label("day")

    def _seconds_between(self, start: Any, end: Any) -> ColumnElement[Any]:
        """Return end - start in seconds, in this database's own SQL (for ordering)."""
        if self._dialect() == "sqlite":
            return (func.julianday(end) - func.julianday(start)) * 86400.0
        return func.extract("epoch", end - start)

    async def _count(self, column: Any, *conditions: ColumnElement[bool]) -> int:
        return int(await self.session.scalar(select(func.count(column)).where(*conditions)) or 0)

    async def _conversations(self) -> tuple[int, int, int]:
        """Count conversations, distinct customers and customers with more than one, in one pass."""
        per_customer = (
            select(Conversation.customer_id, func.count(Conversation.id).label("n"))
            .where(*self._within(Conversation.opened_at)).group_by(Conversation.customer_id).subquery()
        )
        total, customers, repeat = (await self.session.execute(
            select(func.sum(per_customer.c.n), func.count(), func.count().filter(per_customer.c.n > 1))
        )).one()
        return int(total or 0), int(customers or 0), int(repeat or 0)

    async def _ratings(self) -> dict[str, int]:
        """Count ratings and sum their scores, overall, satisfied, and where the conversation had an offer."""
        # One pass over the offers' conversation index (a hashed list), cheaper than a probe per rating.
        had_offer = Rating.conversation_id.in_(select(Offer.conversation_id))
        rated = (
            select(Rating.score, had_offer.label("offered")).where(*self._within(Rating.created_at)).subquery()
        )
        offered = rated.c.offered.is_(True)
        row = (await self.session.execute(select(
            func.count(), func.sum(rated.c.score), func.count().filter(rated.c.score >= self.min_rating),
            func.count().filter(offered), func.sum(rated.c.score).filter(offered),
        ))).one()
        return {"responses": int(row[0] or 0), "sum": int(row[1] or 0), "satisfied": int(row[2] or 0),
                "offered": int(row[3] or 0), "offered_sum": int(row[4] or 0)}

    async def _needs(self, limit: int = 5) -> dict[str, Any]:
        """Count resolved and unmet needs and rank the top topics, from one per-topic aggregate."""
        per_topic = (await self.session.execute(
            select(Need.topic, func.count(Need.id), func.count(Need.id).filter(Need.status == "resolved"),
                   func.count(Need.id).filter(Need.status == "unmet"))
            .where(*self._within(Need.created_at)).group_by(Need.topic)
        )).all()
        top = sorted(((topic, int(n)) for topic, n, _, _ in per_topic), key=lambda item: (-item[1], item[0]))
        return {"resolved": sum(int(row[2]) for row in per_topic), "unmet": sum(int(row[3]) for row in per_topic),
                "top": [{"need": topic, "count": n} for topic, n in top[:limit]]}

    def _against_rule_four(self) -> ColumnElement[bool]:
        """An offer or referral ask made without satisfaction, in frustration, or after an opt-out.

        Rebuilt from the facts rather than trusting the gate's own verdict, so a bug in the gate shows here.
        """
        satisfied_rating = exists().where(
            Rating.conversation_id == Offer.conversation_id, Rating.score >= self.min_rating,
            Rating.created_at <= Offer.created_at,
        )
        positive_followup = exists().where(
            FollowUp.customer_id == Offer.customer_id, FollowUp.status == "yes",
            FollowUp.answered_at <= Offer.created_at,
        )
        # Frustration and opt-outs are rare: an uncorrelated id list is read once from a small index slice,
        # and the opt-out time is checked only for the few offers whose customer ever opted out.
        frustrated = Offer.conversation_id.in_(select(Conversation.id).where(Conversation.frustrated.is_(True)))
        opted_out = and_(
            Offer.customer_id.in_(select(Customer.id).where(Customer.opted_out_at.is_not(None))),
            exists().where(Customer.id == Offer.customer_id, Customer.opted_out_at <= Offer.created_at),
        )
        return or_(Offer.allowed.is_(False), and_(~satisfied_rating, ~positive_followup), frustrated, opted_out)

    async def _per_agent(self) -> list[dict[str, Any]]:
        """Count the handoffs each agent took in the period, busiest first."""
        handled = func.count(Handoff.id).label("handled")
        query = (
            select(Handoff.agent_key, handled)
            .where(Handoff.agent_key.is_not(None), *self._within(Handoff.created_at))
            .group_by(Handoff.agent_key).order_by(handled.desc(), Handoff.agent_key)
        )
        return [{"agent": agent, "handled": n} for agent, n in (await self.session.execute(query)).all()]

    async def _handoff_waits(self) -> tuple[float | None, float | None]:
        """Seconds from handoff to an agent's first reply (or claim): median and 90th percentile.

        Both come from SQL ordering and offset; the median averages the two middle waits of an even count,
        the 90th percentile takes the nearest rank.
        """
        answered = func.coalesce(Handoff.first_reply_at, Handoff.claimed_at)
        conditions = (*self._within(Handoff.created_at), answered.is_not(None))
        total = await self._count(Handoff.id, *conditions)
        if total == 0:
            return None, None
        ordered = (select(Handoff.created_at, answered).where(*conditions)
                   .order_by(self._seconds_between(Handoff.created_at, answered), Handoff.id))

        async def wait_at(offset: int, limit: int) -> float:
            rows = (await self.session.execute(ordered.offset(offset).limit(limit))).all()
            waits = [(end - start).total_seconds() for start, end in rows]
            return round(sum(waits) / len(waits), 1)

        median = await wait_at((total - 1) // 2, 2 if total % 2 == 0 else 1)
        return median, await wait_at(max(math.ceil(0.9 * total) - 1, 0), 1)

def _average(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def _as_date(value: Any) -> date:
    """Return a grouped day as a date, whether the database gave a string, a datetime or a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
