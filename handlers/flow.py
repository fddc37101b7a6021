"""The conversation as a state table: (state, event) -> use case, kept as data.

```
            TEXT ┌──────────────┐ YES  ┌──────────────┐ RATING>=min ┌──────────────────────┐
  IDLE ─────────>│ AWAIT_       │─────>│ AWAIT_RATING │────────────>│ closed; offer or     │
   ^  close call │ RESOLUTION   │      └──────────────┘             │ referral if rule 4   │
   |  ┌─────────>└──────────────┘             │ RATING<=2           └──────────────────────┘
   |  │ AWAIT_CLARIFY  │ NO (1st)             v
   |  │  CHOICE ───────┘──> next-best   ┌────────────────┐ TEXT (feedback stored)
   |  │                     or AWAIT_   │ AWAIT_FEEDBACK │──────────> closed, person offered
   |  │                     DETAIL      └────────────────┘
   |  │ NO (2nd) ──> person offered (button)
   |  └─ out of scope ──> FALLBACK (need unmet, person offered)
   └──── PERSON (any state) ──> WITH_PERSON: the bot stays silent (words relayed to the desk) until an
         agent releases it ──> AWAIT_RATING (about the person's help)
```
Fallbacks apply in every state unless the state names the event itself: a person on request, opt-out,
answers to offers and follow-ups (their buttons name the record), referral codes, data requests and
stale buttons. While WITH_PERSON, only opt-out and data requests get an answer from the bot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from handlers import desk, followups, handoff, notices, privacy, satisfaction, selling, service
from handlers.turn import Turn


class State(StrEnum):
    IDLE = "idle"
    AWAIT_RESOLUTION = "await_resolution"
    AWAIT_CLARIFY = "await_clarify"
    AWAIT_DETAIL = "await_detail"
    AWAIT_RATING = "await_rating"
    AWAIT_FEEDBACK = "await_feedback"
    WITH_PERSON = "with_person"


class EventType(StrEnum):
    TEXT = "text"
    GREETING = "greeting"
    THANKS = "thanks"
    YES = "yes"
    NO = "no"
    RATING = "rating"
    CHOICE = "choice"
    PERSON = "person"
    OPT_OUT = "opt_out"
    OFFER_ANSWER = "offer_answer"
    FOLLOWUP_ANSWER = "followup_answer"
    REFERRAL_CODE = "referral_code"
    EXPORT = "export"
    FORGET = "forget"
    STALE_BUTTON = "stale_button"


@dataclass(frozen=True)
class Event:
    """What the customer did, as the state table sees it. `arg` is a score, intent, code or yes/no."""

    type: EventType
    arg: str = ""
    record_id: int | None = None


UseCase = Callable[[Turn, Event], Awaitable[None]]

STATES: dict[State, dict[EventType, UseCase]] = {
    State.IDLE: {
        EventType.TEXT: service.answer_request,
        EventType.GREETING: service.greet,
        EventType.THANKS: service.welcome_thanks,
        EventType.YES: notices.nothing_pending,
        EventType.NO: notices.nothing_pending,
        EventType.RATING: notices.nothing_pending,
    },
    State.AWAIT_RESOLUTION: {
        EventType.YES: service.resolved,
        EventType.THANKS: service.resolved,
        EventType.NO: service.not_resolved,
        EventType.TEXT: service.answer_request,
        EventType.GREETING: service.greet,
        EventType.RATING: service.answer_request,
    },
    State.AWAIT_CLARIFY: {
        EventType.CHOICE: service.clarified,
        EventType.TEXT: service.answer_request,
        EventType.NO: service.ask_for_detail,
    },
    State.AWAIT_DETAIL: {
        EventType.TEXT: service.answer_request,
        EventType.NO: handoff.offer_person,
        EventType.YES: service.answer_request,
    },
    State.AWAIT_RATING: {
        EventType.RATING: satisfaction.rated,
        EventType.TEXT: service.answer_request,
        EventType.THANKS: service.welcome_thanks,
    },
    State.AWAIT_FEEDBACK: {
        EventType.TEXT: satisfaction.feedback_given,
        EventType.NO: satisfaction.feedback_given,
        EventType.YES: satisfaction.feedback_given,
        EventType.RATING: satisfaction.feedback_given,
    },
    State.WITH_PERSON: {
        EventType.OPT_OUT: selling.opt_out,
        EventType.EXPORT: privacy.export_for_customer,
        EventType.FORGET: privacy.ask_to_forget,
    },
}

FALLBACKS: dict[EventType, UseCase] = {
    EventType.PERSON: handoff.hand_over,
    EventType.OPT_OUT: selling.opt_out,
    EventType.OFFER_ANSWER: selling.offer_answered,
    EventType.FOLLOWUP_ANSWER: followups.answered,
    EventType.REFERRAL_CODE: selling.redeem_referral,
    EventType.EXPORT: privacy.export_for_customer,
    EventType.FORGET: privacy.ask_to_forget,
    EventType.STALE_BUTTON: notices.stale_button,
    EventType.CHOICE: notices.stale_button,
    EventType.TEXT: service.answer_request,
    EventType.GREETING: service.greet,
    EventType.THANKS: service.welcome_thanks,
    EventType.YES: notices.nothing_pending,
    EventType.NO: notices.nothing_pending,
    EventType.RATING: notices.nothing_pending,
}


def use_case_for(state: str, event: Event) -> UseCase:
    """Look up what to do: the state's own entry first, then the fallbacks; a person holds the floor."""
    table = STATES.get(State(state), {})
    if event.type in table:
        return table[event.type]
    if state == State.WITH_PERSON:
        return desk.relay_to_desk
    return FALLBACKS[event.type]
