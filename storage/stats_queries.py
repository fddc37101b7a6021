"""Manager figures as SQL aggregates: each is one indexed query, never rows loaded into Python."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
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


class StatsQueries:
    """Compute the stats fields of DESIGN.md for conversations opened since a moment (None: all time)."""

    def __init__(self, session: AsyncSession, since: datetime | None, min_rating: int) -> None:
        self.session = session
        self.since = since
        self.min_rating = min_rating

    async def figures(self) -> dict[str, Any]:
        """Return every figure, keyed by its contract name."""
        conversations, customers = (await self.session.execute(
            select(func.count(Conversation.id), func.count(func.distinct(Conversation.customer_id)))
            .where(self._after(Conversation.opened_at))
        )).one()
        csat_responses, csat_sum, satisfied = (await self.session.execute(
            select(func.count(Rating.id), func.sum(Rating.score),
                   func.count(Rating.id).filter(Rating.score >= self.min_rating))
            .where(self._after(Rating.created_at))
        )).one()
        offers_made, offers_accepted = (await self.session.execute(
            select(func.count(Offer.id), func.count(Offer.id).filter(Offer.status == "accepted"))
            .where(Offer.kind == "product", self._after(Offer.created_at))
        )).one()
        return {
            "conversations": conversations,
            "customers": customers,
            "resolved_by_bot": await self._count(Need.id, Need.status == "resolved", self._after(Need.created_at)),
            "handed_off": await self._count(Handoff.id, self._after(Handoff.created_at)),
            "unmet_needs": await self._count(Need.id, Need.status == "unmet", self._after(Need.created_at)),
            "csat_responses": csat_responses,
            "csat_average": round(csat_sum / csat_responses, 2) if csat_responses else None,
            "satisfied_rate": round(satisfied / csat_responses, 4) if csat_responses else None,
            "followups_sent": await self._count(FollowUp.id, FollowUp.sent_at.is_not(None),
                                                self._after(FollowUp.sent_at)),
            "followups_positive": await self._count(FollowUp.id, FollowUp.status == "yes",
                                                    self._after(FollowUp.answered_at)),
            "offers_made": offers_made,
            "offers_accepted": offers_accepted,
            "offer_conversion": round(offers_accepted / offers_made, 4) if offers_made else None,
            "offers_to_unsatisfied": await self._count(Offer.id, self._after(Offer.created_at),
                                                       self._against_rule_four()),
            "referrals_given": await self._count(ReferralCode.code, self._after(ReferralCode.created_at)),
            "referrals_redeemed": await self._count(ReferralRedemption.id,
                                                    self._after(ReferralRedemption.created_at)),
            "top_needs": await self._top_needs(),
            "handoff_wait_seconds_p50": await self._handoff_wait_p50(),
        }

    def _after(self, column: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = column >= self.since if self.since is not None else column.is_not(None)
        return condition

    async def _count(self, column: Any, *conditions: ColumnElement[bool]) -> int:
        return int(await self.session.scalar(select(func.count(column)).where(*conditions)) or 0)

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
        frustrated = exists().where(Conversation.id == Offer.conversation_id, Conversation.frustrated.is_(True))
        opted_out = exists().where(
            Customer.id == Offer.customer_id, Customer.opted_out_at.is_not(None),
            Customer.opted_out_at <= Offer.created_at,
        )
        return or_(Offer.allowed.is_(False), and_(~satisfied_rating, ~positive_followup), frustrated, opted_out)

    async def _top_needs(self, limit: int = 5) -> list[dict[str, Any]]:
        count = func.count(Need.id).label("count")
        query = (
            select(Need.topic, count).where(self._after(Need.created_at))
            .group_by(Need.topic).order_by(count.desc(), Need.topic).limit(limit)
        )
        return [{"need": topic, "count": n} for topic, n in (await self.session.execute(query)).all()]

    async def _handoff_wait_p50(self) -> float | None:
        """Median seconds from handoff to an agent's first reply (or claim), by SQL ordering and offset."""
        answered = func.coalesce(Handoff.first_reply_at, Handoff.claimed_at)
        conditions = (self._after(Handoff.created_at), answered.is_not(None))
        total = await self._count(Handoff.id, *conditions)
        if total == 0:
            return None
        query = (select(Handoff.created_at, answered).where(*conditions).order_by(answered - Handoff.created_at)
                 .offset((total - 1) // 2).limit(2 if total % 2 == 0 else 1))
        waits = [(end - start).total_seconds() for start, end in (await self.session.execute(query)).all()]
        return round(sum(waits) / len(waits), 1)
