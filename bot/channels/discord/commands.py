"""The `/concierge` slash command group; every subcommand becomes an `Inbound(command=...)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

GROUP_NAME = "concierge"
PERIODS = (("last 7 days", "7d"), ("last 30 days", "30d"), ("all time", "all"))

OnCommand = Callable[[discord.Interaction[Any], str, tuple[str, ...]], Awaitable[None]]


@dataclass(frozen=True)
class TextCommand:
    """A subcommand with one optional free-text option, split on spaces into `Inbound.args`."""

    name: str
    description: str
    option: str = "text"
    option_description: str = "What to pass along"


# Commands the core understands beyond stats/optout/help; agent-desk commands are added here.
DEFAULT_TEXT_COMMANDS: tuple[TextCommand, ...] = (
    TextCommand("handoff", "Ask for a person to take over", "reason", "What you need help with"),
    # The agent desk (agents only; the core checks the role and refuses privately).
    TextCommand("queue", "Agents: tickets waiting for a person", "filter", "Unused"),
    TextCommand("claim", "Agents: take a ticket (the most urgent when none is named)", "ticket", "Ticket number"),
    TextCommand("reply", "Agents: write to a ticket's customer", "text", "TICKET then your message"),
    TextCommand("note", "Agents: an internal note on a ticket", "text", "TICKET then the note"),
    TextCommand("transfer", "Agents: give a ticket to another agent", "text", "TICKET then the agent"),
    TextCommand("release", "Agents: hand the customer back to the bot", "ticket", "Ticket number"),
    TextCommand("close", "Agents: close a ticket", "ticket", "Ticket number"),
)


def build_group(on_command: OnCommand, extra: Sequence[TextCommand] = DEFAULT_TEXT_COMMANDS) -> app_commands.Group:
    """Return the `/concierge` group whose subcommands all call `on_command(interaction, name, args)`."""
    group = app_commands.Group(name=GROUP_NAME, description="Talk to the Concierge helpdesk")

    @group.command(name="stats", description="What customers experienced and what was sold (managers)")
    @app_commands.describe(period="How far back to count")
    @app_commands.choices(period=[app_commands.Choice(name=name, value=value) for name, value in PERIODS])
    async def stats(interaction: discord.Interaction[Any], period: str | None = None) -> None:
        await on_command(interaction, "stats", (period,) if period else ())

    @group.command(name="optout", description="Stop all offers and suggestions")
    async def optout(interaction: discord.Interaction[Any]) -> None:
        await on_command(interaction, "optout", ())

    @group.command(name="help", description="What Concierge can do for you")
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await on_command(interaction, "help", ())

    for spec in extra:
        group.add_command(_text_command(spec, on_command))
    return group


def _text_command(spec: TextCommand, on_command: OnCommand) -> app_commands.Command[Any, ..., None]:
    async def run(interaction: discord.Interaction[Any], text: str | None = None) -> None:
        await on_command(interaction, spec.name, tuple(text.split()) if text else ())

    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=spec.name, description=spec.description, callback=run
    )
    if spec.option != "text":
        # Rename the option Discord shows without changing the callback's parameter name.
        app_commands.rename(text=spec.option)(command)
    app_commands.describe(text=spec.option_description)(command)
    return command
