"""Slack adapter: Events API over HTTP or Socket Mode in, Web API out."""

from bot.channels.slack.channel import SlackChannel

__all__ = ["SlackChannel"]
