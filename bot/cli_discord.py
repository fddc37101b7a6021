"""`concierge discord …`: Discord helpers for operators (the invite link)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import ConfigError, load_config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add `discord invite-url` to the command line; `common` carries `--config`."""
    discord_parser = subparsers.add_parser("discord", help="Discord helpers")
    actions = discord_parser.add_subparsers(dest="discord_command", metavar="COMMAND", required=True)
    invite = actions.add_parser(
        "invite-url",
        parents=[common],
        help="print the link that adds the bot to a server",
        description="Print the OAuth2 invite URL: the bot and slash-command scopes, and exactly the "
        "channel permissions the bot uses.",
    )
    invite.add_argument("--application-id", type=int, help="the application id (default: [discord] application_id)")
    invite.set_defaults(func=invite_url_command)


def invite_url_command(args: argparse.Namespace) -> int:
    """Print the invite URL for the configured (or given) application id."""
    # Imported here: discord.py takes half a second to import, which every other command would pay.
    from bot.channels.discord.invite import invite_url

    application_id = getattr(args, "application_id", None)
    if application_id is None:
        config_path = getattr(args, "config", None)
        try:
            config = load_config(Path(config_path) if config_path else None)
        except ConfigError as error:
            print(f"concierge: error: {error}", file=sys.stderr)
            return 2
        application_id = config.discord.application_id
    if application_id is None:
        print("concierge: error: set [discord] application_id in the config or pass --application-id", file=sys.stderr)
        return 2
    print(invite_url(application_id))
    return 0
