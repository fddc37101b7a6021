"""Short notices that any state may need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.messages import Inbound, Kind, Reply

if TYPE_CHECKING:
    from handlers.flow import Event
    from handlers.replies import Templates
    from handlers.turn import Turn


async def stale_button(turn: Turn, event: Event) -> None:
    """Explain that a button no longer applies (pressed twice, expired, or not this customer's)."""
    turn.say(Kind.NOTICE, turn.render("button_expired"))


async def nothing_pending(turn: Turn, event: Event) -> None:
    """Answer a bare yes, no or digit that replies to nothing, without recording it as a need."""
    turn.say(Kind.NOTICE, turn.render("nothing_pending"))


def not_your_buttons(inbound: Inbound, templates: Templates) -> Reply:
    """Tell someone privately that the buttons they pressed were sent to another customer."""
    return Reply(
        platform=inbound.platform, to=inbound.user_id, kind=Kind.NOTICE, text=templates.render("button_not_yours"),
        channel_id=inbound.channel_id, thread_id=inbound.thread_id, ephemeral=True,
    )
