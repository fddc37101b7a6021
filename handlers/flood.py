"""Flood control: past a per-customer rate, store what the customer writes but answer it once, politely."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from handlers.messages import Kind

if TYPE_CHECKING:
    from handlers.flow import Event
    from handlers.turn import Turn

WINDOW = timedelta(seconds=60)
NOTICE_KEY = "flood_notice_at"
# The customer's rights and a person on request are never held back by the rate limit.
_ALWAYS_SERVED = frozenset({"person", "opt_out", "export", "forget"})


async def held_back(turn: Turn, event: Event) -> bool:
    """Return whether this turn is over the rate limit; if so, queue the one notice the flood gets."""
    limit = turn.services.policy.flood_per_minute
    if limit <= 0 or str(event.type) in _ALWAYS_SERVED or turn.conversation.state == "with_person":
        return False
    recent = turn.recent_inbound
    if recent is None:
        recent = await turn.uow.conversations.inbound_count_since(turn.customer.id, turn.now - WINDOW)
    if recent <= limit:
        return False
    context = dict(turn.conversation.context or {})
    if not _noticed_within_window(context.get(NOTICE_KEY), turn.now):
        turn.say(Kind.NOTICE, turn.render("flood"))
        # A new dict, so the JSON column sees the change.
        turn.conversation.context = {**context, NOTICE_KEY: turn.now.isoformat()}
    return True


def _noticed_within_window(stamp: object, now: datetime) -> bool:
    if not isinstance(stamp, str):
        return False
    try:
        noticed = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    if noticed.tzinfo is None and now.tzinfo is not None:
        return False
    return now - noticed < WINDOW
