"""Persistent buttons: every Concierge button is a DynamicItem, so presses work across restarts."""

from __future__ import annotations

import re
from typing import Any, Protocol, Self, runtime_checkable

import discord

from bot.channels.discord.translate import CUSTOM_ID_TEMPLATE, custom_id_for, parse_custom_id


@runtime_checkable
class PressHandler(Protocol):
    """What a button press is handed to (the Discord channel)."""

    async def on_button(self, interaction: discord.Interaction[Any], button_id: str, owner: str | None) -> None: ...


class ConciergeButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=CUSTOM_ID_TEMPLATE,
):
    """A button whose custom_id carries the core's button id and the user it was sent to (see translate)."""

    def __init__(self, button_id: str, label: str = "", owner: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or None,
                custom_id=custom_id_for(button_id, owner),
                style=discord.ButtonStyle.primary,
            )
        )
        self.button_id = button_id
        self.owner = owner

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a pressed component, whether or not this process sent it."""
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match["id"], label or "", match["owner"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the press to the channel that owns the client."""
        handler = getattr(interaction.client, "concierge", None)
        if isinstance(handler, PressHandler):
            await handler.on_button(interaction, self.button_id, self.owner)


def buttons_view(specs: tuple[tuple[str, str], ...]) -> discord.ui.View | None:
    """Return a view of persistent buttons for (custom_id, label) pairs, or None when there are none."""
    if not specs:
        return None
    view = discord.ui.View(timeout=None)
    for custom_id, label in specs:
        parsed = parse_custom_id(custom_id)
        if parsed is not None:
            view.add_item(ConciergeButton(parsed[0], label, parsed[1]))
    # Only dynamic items: discord.py keeps no per-message state, so presses all route by template.
    return view


def disabled_view(message: discord.Message | None, pressed_custom_id: str) -> discord.ui.View:
    """Return the message's buttons, all disabled, the pressed one highlighted."""
    view = discord.ui.View(timeout=None)
    rows = message.components if message is not None else []
    for row_index, row in enumerate(rows[:5]):
        if not isinstance(row, discord.ActionRow):
            continue
        for component in row.children:
            if not isinstance(component, discord.components.Button):
                continue
            pressed = component.custom_id == pressed_custom_id
            style = discord.ButtonStyle.success if pressed else discord.ButtonStyle.secondary
            view.add_item(
                discord.ui.Button(
                    label=component.label,
                    custom_id=component.custom_id,
                    url=component.url,
                    style=discord.ButtonStyle.link if component.url else style,
                    disabled=True,
                    row=row_index,
                )
            )
    # A finished view is not stored by discord.py, so edited messages leave no state behind.
    view.stop()
    return view
