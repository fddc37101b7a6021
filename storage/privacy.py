"""A customer's data as one document, and its erasure (rule 8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEntry,
    Base,
    ClarifyChoice,
    Conversation,
    Customer,
    Feedback,
    FollowUp,
    Handoff,
    Message,
    Need,
    Offer,
    Rating,
    ReferralCode,
    ReferralRedemption,
)

# Tables whose rows belong to one customer through `customer_id`.
_OWNED: tuple[type[Base], ...] = (
    Conversation, Need, Rating, Feedback, Offer, ReferralCode, FollowUp, Handoff, ClarifyChoice,
)


class PrivacyRepository:
    """Export or erase everything stored about one customer."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def export(self, customer: Customer) -> dict[str, Any]:
        """Return every row about the customer, table by table, as plain JSON-able values."""
        document: dict[str, Any] = {"customer": _as_dict(customer)}
        for model in _OWNED:
            rows = await self.session.scalars(select(model).where(model.customer_id == customer.id))  # type: ignore[attr-defined]
            document[str(model.__tablename__)] = [_as_dict(row) for row in rows]
        conversation_ids = [row["id"] for row in document["conversations"]]
        messages = await self.session.scalars(
            select(Message).where(Message.conversation_id.in_(conversation_ids)).order_by(Message.id)
        )
        document["messages"] = [_as_dict(row) for row in messages]
        redemptions = await self.session.scalars(select(ReferralRedemption).where(
            (ReferralRedemption.referred_id == customer.id) | (ReferralRedemption.referrer_id == customer.id)
        ))
        document["referral_redemptions"] = [_as_dict(row) for row in redemptions]
        return document

    async def erase(self, customer: Customer) -> None:
        """Delete the customer and every row that names them."""
        customer_id = customer.id
        conversation_ids = select(Conversation.id).where(Conversation.customer_id == customer_id)
        await self.session.execute(delete(Message).where(Message.conversation_id.in_(conversation_ids)))
        await self.session.execute(delete(ReferralRedemption).where(
            (ReferralRedemption.referred_id == customer_id) | (ReferralRedemption.referrer_id == customer_id)
        ))
        for model in (FollowUp, Offer, Rating, Feedback, Handoff, ClarifyChoice, Need, ReferralCode, Conversation):
            await self.session.execute(delete(model).where(model.customer_id == customer_id))
        await self.session.execute(
            update(Customer).where(Customer.referred_by_id == customer_id).values(referred_by_id=None)
        )
        # The audit log is never erased, but a customer's own refused attempts must not keep naming them.
        await self.session.execute(
            update(AuditEntry).where(AuditEntry.actor_key == customer.key, AuditEntry.action.endswith("_refused"))
            .values(actor_key=f"erased:{customer_id}")
        )
        await self.session.execute(delete(Customer).where(Customer.id == customer_id))
        self.session.expunge_all()


def _as_dict(row: Base) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in inspect(type(row)).columns:
        value = getattr(row, column.key)
        values[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return values
