"""Manager figures as SQL aggregates: each is one indexed query, never rows loaded into Python."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
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
from storage.sqlite_async import in_worker_thread


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
        # Aggregates over the whole store: on SQLite they run in the worker thread, not on the event loop.
        with in_worker_thread():
            return await self._figures()

    async def _figures(self) -> dict[str, Any]:
        await self._tune()
        conversations, customers, repeat_customers = await self._conversations()
        csat = await self._ratings()
        offers_made, offers_accepted = (await self.session.execute(
            select(func.count(Offer.id), func.count(Offer.id).filter(Offer.status == "accepted"))
            .where(Offer.kind == "product", *self._within(Offer.created_at))
        )).one()
        handed_off, waited = await self._handoff_counts()
        wait_p50, wait_p90 = await self._handoff_waits(waited)
        needs = await self._needs()
        return {
            "conversations": conversations,
            "customers": customers,
            "resolved_by_bot": needs["resolved"],
            "handed_off": handed_off,
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

    async def _tune(self) -> None:
        """PostgreSQL: no JIT (compiling costs more than these short aggregates gain) and room to hash in memory."""
        if self._dialect() == "postgresql":
            # SET LOCAL ends with this transaction, so the settings never leak to the pooled connection.
            await self.session.execute(text("SET LOCAL jit = off"))
            await self.session.execute(text("SET LOCAL work_mem = '64MB'"))

    async def daily(self) -> list[DailyPoint]:
        """Return each day's average rating and product-offer figures, oldest first (days with neither left out)."""
        with in_worker_thread():
            return await self._daily()

    async def _daily(self) -> list[DailyPoint]:
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
        """Count conversations, distinct customers and customers with more than one, as three index ranges.

        Each conversation knows when its customer's two previous ones opened (kept by triggers, migration 0009).
        A customer's conversations in the period after their first there are those whose previous one is in the
        period; after their second, those whose second previous one is. So customers = conversations - the
        first kind, and customers who came back = the first kind - the second kind.
        """
        total = await self._count(literal_column("*"), *self._within(Conversation.opened_at))
        after_first = await self._count(literal_column("*"), *self._since_previous(Conversation.previous_opened_at))
        after_second = await self._count(literal_column("*"),
                                         *self._since_previous(Conversation.second_previous_opened_at))
        return total, total - after_first, after_first - after_second

    def _since_previous(self, previous: Any) -> tuple[ColumnElement[bool], ...]:
        """Conversations of the period whose earlier conversation (`previous`) also opened in the period."""
        # An earlier conversation opened before this one, so `previous` in the period puts this one after its start.
        start = previous >= self.since if self.since is not None else previous.is_not(None)
        return (start,) if self.until is None else (start, Conversation.opened_at < self.until)

    async def _ratings(self) -> dict[str, int]:
        """Count ratings and sum their scores, overall, satisfied, and where the conversation had an offer."""
        # Score by score, with and without an offer: index ranges counted, no column of a rating read.
        # `with_offer` is kept by database triggers (migration 0007).
        offered = await self._count_each(Rating.score, Rating.created_at, Rating.with_offer.is_(True))
        not_offered = await self._count_each(Rating.score, Rating.created_at, Rating.with_offer.is_(False))
        both = [*offered.items(), *not_offered.items()]
        return {"responses": sum(n for _, n in both), "sum": sum(score * n for score, n in both),
                "satisfied": sum(n for score, n in both if score >= self.min_rating),
                "offered": sum(offered.values()), "offered_sum": sum(score * n for score, n in offered.items())}

    async def _needs(self, limit: int = 5) -> dict[str, Any]:
        """Count resolved and unmet needs and rank the top topics, walking the period's needs about once."""
        per_topic = await self._count_each(Need.topic, Need.created_at)
        # Resolved is most needs: count every other status and subtract, so only the others' ranges are walked.
        others = await self._count_each(Need.status, Need.created_at, leave_out="resolved")
        top = sorted(per_topic.items(), key=lambda item: (-item[1], item[0]))
        return {"resolved": sum(per_topic.values()) - sum(others.values()), "unmet": others.get("unmet", 0),
                "top": [{"need": topic, "count": n} for topic, n in top[:limit]]}

    async def _count_each(self, column: Any, timed: Any, *conditions: ColumnElement[bool],
                          leave_out: str | None = None) -> dict[Any, int]:
        """Count the period's rows for each value of `column` (a topic, a score) that has any.

        A loose index scan on (column, ..., timed): hop from one distinct value to the next, then count that
        value's range of the period, so the rows are never sorted, hashed or read one by one. `conditions` may
        name only the column and columns between it and `timed` in the index; `leave_out` is a value not counted.
        """
        step = getattr(aliased(column.class_), column.key)
        values = select(func.min(column).label("value")).cte(f"{column.key}_values", recursive=True)
        following = select(func.min(step)).where(step > values.c.value).scalar_subquery()
        values = values.union_all(select(following).where(values.c.value.is_not(None)))
        in_period = select(func.count()).where(column == values.c.value, *conditions, *self._within(timed))
        # A value left out is filtered before its count is evaluated, so its range is never walked.
        wanted = [values.c.value.is_not(None)] + ([values.c.value != leave_out] if leave_out is not None else [])
        counts = (await self.session.execute(select(values.c.value, in_period.scalar_subquery()).where(*wanted))).all()
        return {value: int(n) for value, n in counts if n}

    def _against_rule_four(self) -> ColumnElement[bool]:
        """An offer or referral ask made without satisfaction, in frustration, or after an opt-out.

        Rebuilt from the facts rather than trusting the gate's own verdict, so a bug in the gate shows here: the
        conversation's best rating and the customer's "yes" follow-ups up to the offer are kept on the offer by
        database triggers (migration 0007), so the audit is one pass over the offers' stats index.
        """
        unsatisfied = and_(func.coalesce(Offer.best_rating_before, 0) < self.min_rating,
                           Offer.positive_followup_before.is_(False))
        # Frustration and opt-outs are rare: an uncorrelated id list is read once from a small index slice,
        # and the opt-out time is checked only for the few offers whose customer ever opted out.
        frustrated = Offer.conversation_id.in_(select(Conversation.id).where(Conversation.frustrated.is_(True)))
        opted_out = and_(
            Offer.customer_id.in_(select(Customer.id).where(Customer.opted_out_at.is_not(None))),
            exists().where(Customer.id == Offer.customer_id, Customer.opted_out_at <= Offer.created_at),
        )
        return or_(Offer.allowed.is_(False), unsatisfied, frustrated, opted_out)

    async def _per_agent(self) -> list[dict[str, Any]]:
        """Count the handoffs each agent took in the period, busiest first."""
        handled = func.count(Handoff.id).label("handled")
        query = (
            select(Handoff.agent_key, handled)
            .where(Handoff.agent_key.is_not(None), *self._within(Handoff.created_at))
            .group_by(Handoff.agent_key).order_by(handled.desc(), Handoff.agent_key)
        )
        return [{"agent": agent, "handled": n} for agent, n in (await self.session.execute(query)).all()]

    def _answered(self) -> ColumnElement[Any]:
        return func.coalesce(Handoff.first_reply_at, Handoff.claimed_at)

    async def _handoff_counts(self) -> tuple[int, int]:
        """Count the period's handoffs, and those an agent answered (replied to or claimed)."""
        handed, answered = (await self.session.execute(
            select(func.count(), func.count().filter(self._answered().is_not(None)))
            .where(*self._within(Handoff.created_at))
        )).one()
        return int(handed or 0), int(answered or 0)

    async def _handoff_waits(self, total: int) -> tuple[float | None, float | None]:
        """Seconds from handoff to an agent's first reply (or claim), over `total` answered: median and p90.

        The median averages the two middle waits of an even count, the 90th percentile takes the nearest rank:
        PostgreSQL's ordered-set aggregates, or on SQLite ordering and offset (the p90 counted from the longest
        wait down so the sort keeps few rows).
        """
        if total == 0:
            return None, None
        answered = self._answered()
        wait = self._seconds_between(Handoff.created_at, answered)
        conditions = (*self._within(Handoff.created_at), answered.is_not(None))
        if self._dialect() == "postgresql":
            # One sort for both: percentile_cont(0.5) averages the middle two of an even count, percentile_disc
            # takes the nearest rank, as the SQLite path below does by offsets.
            p50, p90 = (await self.session.execute(select(
                func.percentile_cont(0.5).within_group(wait), func.percentile_disc(0.9).within_group(wait),
            ).where(*conditions))).one()
            return round(float(p50), 1), round(float(p90), 1)
        query = select(Handoff.created_at, answered).where(*conditions)

        async def waits(ordered: Any, offset: int, limit: int) -> float:
            rows = (await self.session.execute(ordered.offset(offset).limit(limit))).all()
            seconds: list[float] = [(end - start).total_seconds() for start, end in rows]
            return round(sum(seconds) / len(seconds), 1)

        median = await waits(query.order_by(wait, Handoff.id), (total - 1) // 2, 2 if total % 2 == 0 else 1)
        rank = max(math.ceil(0.9 * total), 1)
        return median, await waits(query.order_by(wait.desc(), Handoff.id.desc()), total - rank, 1)


def _average(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def _as_date(value: Any) -> date:
    """Return a grouped day as a date, whether the database gave a string, a datetime or a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
