"""Turn what a customer did (text, a button, a command) into an event of the state table."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers import phrases
from handlers.flow import Event, EventType, State
from handlers.messages import Inbound
from storage.models import Conversation, Customer
from storage.unit_of_work import UnitOfWork

PENDING_OFFER_WINDOW = timedelta(hours=24)
PENDING_FOLLOWUP_WINDOW = timedelta(days=7)
_CUSTOMER_COMMANDS = {"optout": EventType.OPT_OUT, "handoff": EventType.PERSON}


def is_customer_command(command: str) -> bool:
    """Tell whether a command is about the customer's own conversation (not the desk or stats)."""
    return command in _CUSTOMER_COMMANDS


async def classify(
    inbound: Inbound, conversation: Conversation | None, customer: Customer, uow: UnitOfWork, now: datetime
) -> Event:
    """Name the event; typed yes/no answers a pending offer or follow-up when nothing else is pending."""
    state = conversation.state if conversation else State.IDLE
    if inbound.button_id is not None:
        return _button_event(inbound.button_id, conversation)
    if inbound.command:
        return Event(_CUSTOMER_COMMANDS[inbound.command])
    text = inbound.text
    rule_based = _rule_event(text, state)
    if rule_based is not None:
        return rule_based
    if state == State.IDLE and (phrases.is_yes(text) or phrases.is_no(text)):
        answer = "yes" if phrases.is_yes(text) else "no"
        pending = await _pending_answer(customer, uow, now, answer)
        if pending is not None:
            return pending
    if phrases.is_yes(text):
        return Event(EventType.YES, "yes")
    if phrases.is_no(text):
        return Event(EventType.NO, "no")
    if phrases.is_greeting(text):
        return Event(EventType.GREETING)
    if phrases.is_thanks(text):
        return Event(EventType.THANKS)
    return Event(EventType.TEXT)


def _rule_event(text: str, state: str) -> Event | None:
    if phrases.asks_for_person(text):
        return Event(EventType.PERSON)
    if phrases.opts_out(text):
        return Event(EventType.OPT_OUT)
    if phrases.asks_to_forget(text):
        return Event(EventType.FORGET)
    if phrases.asks_for_export(text):
        return Event(EventType.EXPORT)
    code = phrases.referral_code_in(text)
    if code is not None:
        return Event(EventType.REFERRAL_CODE, code)
    score = phrases.rating_in(text)
    if score is not None:
        return Event(EventType.RATING, str(score))
    return None


async def _pending_answer(customer: Customer, uow: UnitOfWork, now: datetime, answer: str) -> Event | None:
    sent = await uow.followups.for_customer(customer.id, "sent")
    recent = [f for f in sent if f.sent_at is not None and now - f.sent_at <= PENDING_FOLLOWUP_WINDOW]
    if recent:
        return Event(EventType.FOLLOWUP_ANSWER, answer, recent[-1].id)
    offers = await uow.offers.since(customer.id, now - PENDING_OFFER_WINDOW)
    open_offers = [o for o in offers if o.status == "made"]
    if open_offers:
        return Event(EventType.OFFER_ANSWER, "accept" if answer == "yes" else "decline", open_offers[0].id)
    return None


def _button_event(button_id: str, conversation: Conversation | None) -> Event:
    action, _, rest = button_id.partition(":")
    record, _, arg = rest.partition(":")
    if not record.isdigit() or len(button_id) > 300:
        return Event(EventType.STALE_BUTTON)
    record_id = int(record)
    if action == "offer" and arg in ("accept", "decline"):
        return Event(EventType.OFFER_ANSWER, arg, record_id)
    if action == "followup" and arg in ("yes", "no"):
        return Event(EventType.FOLLOWUP_ANSWER, arg, record_id)
    if action == "forget" and arg == "confirm":
        return Event(EventType.FORGET, "confirmed", record_id)
    if conversation is None or conversation.id != record_id:
        return Event(EventType.STALE_BUTTON)
    return _conversation_button(action, arg, conversation.state)


def _conversation_button(action: str, arg: str, state: str) -> Event:
    if action == "person" and arg == "yes":
        return Event(EventType.PERSON)
    if action == "resolved" and arg in ("yes", "no") and state == State.AWAIT_RESOLUTION:
        return Event(EventType.YES if arg == "yes" else EventType.NO, arg)
    if action == "rate" and arg in {"1", "2", "3", "4", "5"} and state == State.AWAIT_RATING:
        return Event(EventType.RATING, arg)
    if action == "clarify" and state == State.AWAIT_CLARIFY:
        return Event(EventType.NO, "none") if arg == "none" else Event(EventType.CHOICE, arg)
    return Event(EventType.STALE_BUTTON)
