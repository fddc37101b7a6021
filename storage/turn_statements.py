"""The statements every turn runs, built once with bind parameters: building a statement is not free.

SQLAlchemy caches the SQL of each; the repositories run them with the turn's values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, func, literal, literal_column, select, true
from sqlalchemy.orm import aliased, outerjoin

from storage.models import Conversation, Customer, FollowUp, Message, Need, Offer, Rating


def inbound_count(customer_id: Any, since: Any) -> Any:
    """Count a customer's inbound messages since a moment, in any conversation."""
    # Conversations idle since before `since` hold no message since then: the index skips them.
    return select(func.count(Message.id)).join(Conversation, Message.conversation_id == Conversation.id).where(
        Conversation.customer_id == customer_id,
        Conversation.last_message_at >= since,
        # Written into the SQL, not bound: SQLite ran the turn's customer query 6x slower (about 160 us
        # instead of 25 us) with the direction as a parameter, though its query plan reads the same.
        Message.direction == literal_column("'in'"),
        Message.created_at >= since,
    )


def _last_opener(customer_id: Any) -> Any:
    """The empathy opener the customer got last, in whichever of their conversations (rule 1)."""
    said = aliased(Conversation, name="said")
    return select(said.last_opener).where(
        said.customer_id == customer_id, said.last_opener_at.is_not(None)
    ).order_by(said.last_opener_at.desc(), said.id.desc()).limit(1).scalar_subquery()


def _awaited_need(opened: Any, customer_id: Any) -> tuple[Any, Any]:
    """The need the open conversation waits on (its context's `need_id`), and the condition to join it by."""
    awaited = aliased(Need, name="awaited")
    return awaited, and_(awaited.id == opened.context["need_id"].as_integer(), awaited.customer_id == customer_id)


def _open_with_inbound() -> Any:
    customer_id: Any = bindparam("customer_id")
    since: Any = bindparam("since")
    opened = aliased(Conversation, select(Conversation).where(
        Conversation.customer_id == customer_id, Conversation.closed_at.is_(None)
    ).order_by(Conversation.id.desc()).limit(1).subquery("opened"))
    awaited, awaited_join = _awaited_need(opened, customer_id)
    one_row = select(literal(1).label("one")).subquery("one_row")
    count = inbound_count(customer_id, since).scalar_subquery()
    return select(count, opened, awaited, _last_opener(customer_id)).select_from(
        outerjoin(one_row, opened, true()).outerjoin(awaited, awaited_join)
    )


def _customer_for_turn() -> Any:
    since: Any = bindparam("since")
    opened, latest = aliased(Conversation, name="opened"), aliased(Conversation, name="latest")
    open_id = select(func.max(latest.id)).where(
        latest.customer_id == Customer.id, latest.closed_at.is_(None)
    ).scalar_subquery()
    awaited, awaited_join = _awaited_need(opened, Customer.id)
    count = inbound_count(Customer.id, since).scalar_subquery()
    return select(Customer, count, opened, awaited, _last_opener(Customer.id)).select_from(
        outerjoin(Customer, opened, opened.id == open_id).outerjoin(awaited, awaited_join)
    ).where(Customer.key == bindparam("key"))


CUSTOMER_BY_KEY = select(Customer).where(Customer.key == bindparam("key"))
CUSTOMER_BY_KEY_LOCKED = CUSTOMER_BY_KEY.with_for_update()
# The customer, their open conversation, their inbound count, the need the conversation waits on and the
# opener they got last (SQLite: one statement a turn).
CUSTOMER_FOR_TURN = _customer_for_turn()
# The open conversation, the inbound count, the awaited need and the last opener, read under the customer's
# row lock (PostgreSQL).
OPEN_WITH_INBOUND = _open_with_inbound()
LATEST_CONVERSATION = select(Conversation).where(
    Conversation.customer_id == bindparam("customer_id")
).order_by(Conversation.id.desc()).limit(1)
OPEN_NEEDS = select(Need).where(Need.customer_id == bindparam("customer_id"), Need.status == "open").order_by(Need.id)
NEEDS = select(Need).where(Need.customer_id == bindparam("customer_id")).order_by(Need.id)
RATING = select(Rating).where(Rating.conversation_id == bindparam("conversation_id"))
OFFERS_SINCE = select(Offer).where(
    Offer.customer_id == bindparam("customer_id"), Offer.created_at >= bindparam("since")
).order_by(Offer.id.desc())
FOLLOWUPS_IN_STATUS = select(FollowUp).where(
    FollowUp.customer_id == bindparam("customer_id"), FollowUp.status == bindparam("status")
).order_by(FollowUp.id)
