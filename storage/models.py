"""The tables. Each model is also the record the core works with; only the unit of work saves them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012 (SQLAlchemy reads it)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_opted_out_at", "opted_out_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    opted_out_at: Mapped[datetime | None]


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_customer_open", "customer_id", "closed_at"),
        Index("ix_conversations_opened_at", "opened_at"),
        Index("ix_conversations_previous_opened", "previous_opened_at", "opened_at"),
        Index("ix_conversations_second_previous_opened", "second_previous_opened_at", "opened_at"),
        Index("ix_conversations_customer_opened", "customer_id", "opened_at"),
        Index("ix_conversations_frustrated", "frustrated", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(40))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    channel_id: Mapped[str | None] = mapped_column(String(200))
    thread_id: Mapped[str | None] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    frustrated: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime]
    last_message_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(40))
    # The empathy opener last said in this conversation, and when: a customer's last opener is the latest of
    # their conversations' (rule 1: never the same twice in a row). Kept here, not on the customer, because
    # a turn that says one writes its conversation anyway, and the customer's row then not at all.
    last_opener: Mapped[str | None] = mapped_column(String(400))
    last_opener_at: Mapped[datetime | None]
    # When the customer's previous and second previous conversations opened (None: there is none); kept by
    # database triggers (migration 0009), never written here, so the stats count customers from index ranges.
    previous_opened_at: Mapped[datetime | None]
    second_previous_opened_at: Mapped[datetime | None]


_UNSENT = "direction = 'out' AND sent_at IS NULL"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation", "conversation_id", "id"),
        # Flood control counts a customer's recent inbound messages per conversation by time.
        Index("ix_messages_conversation_direction_created", "conversation_id", "direction", "created_at"),
        # The outbox sweep looks only for outbound messages not yet sent: a partial index keeps it small.
        Index("ix_messages_unsent", "created_at", postgresql_where=text(_UNSENT), sqlite_where=text(_UNSENT)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    kind: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    author: Mapped[str | None] = mapped_column(String(200))  # an agent's key for relayed words
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]  # outbound only: when the platform accepted it (the outbox)


class Need(Base):
    __tablename__ = "needs"
    __table_args__ = (
        Index("ix_needs_customer_status", "customer_id", "status"),
        Index("ix_needs_created_at", "created_at"),
        Index("ix_needs_topic_created", "topic", "created_at"),
        Index("ix_needs_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    words: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # open, resolved, unmet, handed_off
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (
        Index("ix_ratings_created_at", "created_at"),
        Index("ix_ratings_created_score_offer", "created_at", "score", "with_offer"),
        Index("ix_ratings_conversation_score", "conversation_id", "score", "created_at"),
        Index("ix_ratings_score_offer_created", "score", "with_offer", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # Whether the conversation has any offer; kept by database triggers (migration 0007), never written here.
    with_offer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Offer(Base):
    """A product suggestion or referral ask; `reason` says which need it serves, `allowed` the gate's verdict."""

    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_customer_created", "customer_id", "created_at"),
        Index("ix_offers_created_at", "created_at"),
        Index("ix_offers_stats", "created_at", "kind", "status", "allowed", "best_rating_before",
              "positive_followup_before", "conversation_id", "customer_id"),
        Index("ix_offers_conversation", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # product or referral
    sku: Mapped[str | None] = mapped_column(String(100))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    allowed: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))  # made, accepted, declined
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    # Facts for the rule-4 audit, kept by database triggers (migration 0007), never written here: the
    # conversation's highest rating at or before the offer, and a "yes" follow-up of the customer's by then.
    best_rating_before: Mapped[int | None] = mapped_column(Integer)
    positive_followup_before: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ReferralCode(Base):
    __tablename__ = "referral_codes"
    __table_args__ = (Index("ix_referral_codes_created_at", "created_at"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime]


class ReferralRedemption(Base):
    __tablename__ = "referral_redemptions"
    __table_args__ = (Index("ix_referral_redemptions_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    referred_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime]


class FollowUp(Base):
    __tablename__ = "followups"
    __table_args__ = (
        Index("ix_followups_status_due", "status", "due_at"),
        Index("ix_followups_customer_status_answered", "customer_id", "status", "answered_at"),
        Index("ix_followups_sent_at", "sent_at"),
        Index("ix_followups_status_answered", "status", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))  # scheduled, sent, yes, no, cancelled
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]


class Handoff(Base):
    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_status_priority", "status", "priority"),
        Index("ix_handoffs_stats", "created_at", "agent_key", "first_reply_at", "claimed_at"),
        Index("ix_handoffs_conversation_status", "conversation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # queued, claimed, released, closed
    agent_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    first_reply_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class ClarifyChoice(Base):
    """What a customer picked when asked "did you mean…?": a labelled example for the knowledge base."""

    __tablename__ = "clarify_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class ProcessedEvent(Base):
    """A platform delivery id already handled; the primary key makes a second claim fail."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("event_key", name="uq_processed_events_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]


class DeskNote(Base):
    """An agent's internal note on a ticket; it never reaches the customer."""

    __tablename__ = "desk_notes"
    __table_args__ = (Index("ix_desk_notes_handoff", "handoff_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"))
    agent_key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what with privileged access (stats, export, forget, desk actions), and refused attempts."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_created_at", "created_at"),
        Index("ix_audit_log_actor_created", "actor_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_key: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class InboundEvent(Base):
    """A platform event stored before it is acknowledged and deleted once handled (the inbox).

    It holds the customer's words as typed (unredacted) for the moments between the platform's
    delivery and the turn that stores them redacted; a process that dies meanwhile leaves it for
    the next one to handle.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("event_key", name="uq_inbound_events_key"),
        Index("ix_inbound_events_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str | None] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
