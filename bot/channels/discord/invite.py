"""The OAuth2 invite link that adds the bot to a server with exactly the permissions it uses."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def needed_permissions() -> discord.Permissions:
    """Return the channel permissions Concierge uses: read, reply (also in threads), ticket threads, embeds, files."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,  # the agent desk works each claimed ticket in a thread on its card
        embed_links=True,
        attach_files=True,
        read_message_history=True,
    )


def invite_url(application_id: int) -> str:
    """Return the invite URL for the application with the bot and slash-command scopes."""
    return discord.utils.oauth_url(application_id, permissions=needed_permissions(), scopes=SCOPES)
