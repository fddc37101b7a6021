"""A customer's own data (rule 8): a copy on request, and erasure after confirmation."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from handlers.messages import Attachment, Kind

if TYPE_CHECKING:
    from handlers.flow import Event
    from handlers.turn import Turn


async def export_for_customer(turn: Turn, event: Event) -> None:
    """Send the customer everything stored about them, as a JSON file with a short summary."""
    document = await turn.uow.privacy.export(turn.customer)
    summary = ", ".join(f"{len(rows)} {table}" for table, rows in document.items() if isinstance(rows, list))
    content = json.dumps(document, indent=2, default=str).encode()
    attachment = Attachment("my-data.json", content, "application/json")
    turn.say(Kind.NOTICE, turn.render("export_ready", summary=summary), attachments=(attachment,))


async def ask_to_forget(turn: Turn, event: Event) -> None:
    """Ask for confirmation, then erase everything stored about the customer."""
    if event.arg == "confirmed" and event.record_id == turn.customer.id:
        turn.say(Kind.NOTICE, turn.render("forgotten"))
        turn.forget_customer = True
        return
    button = turn.button("forget", turn.customer.id, "confirm", turn.templates.label("forget_confirm"))
    turn.say(Kind.NOTICE, turn.render("forget_confirm"), (button,))
