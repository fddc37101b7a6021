"""The Discord adapter: `DiscordChannel(settings)` runs a discord.py client and translates both ways."""

from bot.channels.discord.channel import DeliveryError, DiscordChannel

__all__ = ["DeliveryError", "DiscordChannel"]
