"""Short notices that any state may need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.messages import Kind

if TYPE_CHECKING:
    from handlers.flow import Event
    from handlers.turn import Turn


async def stale_button(turn: Turn, event: Event) -> None:
    """Explain that a button no longer applies (pressed twice, expired, or not this customer's)."""
    turn.say(Kind.NOTICE, turn.render("button_expired"))


async def nothing_pending(turn: Turn, event: Event) -> None:
    """Answer a bare yes, no or digit that replies to nothing, without recording it as a need."""
    turn.say(Kind.NOTICE, turn.render("nothing_pending"))
