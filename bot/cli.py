"""The `concierge` command line. Every command takes --config and fails with a one-line error."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot import cli_discord, cli_nlu
from bot.config import ENVIRONMENT_KEYS, Config, ConfigError, load_config
from bot.logging_setup import configure_logging
from handlers.knowledge import KnowledgeError

log = logging.getLogger("concierge")
Handler = Callable[[argparse.Namespace, Config], int]


def build_parser() -> argparse.ArgumentParser:
    """Describe every command and its options."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=None, help="TOML config (default ./concierge.toml)")
    common.add_argument("--verbose", "-v", action="store_true", help="log more to stderr")
    parser = argparse.ArgumentParser(prog="concierge", description=__doc__, parents=[common])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    chat = commands.add_parser("chat", parents=[common], help="talk to the bot in this terminal")
    chat.add_argument("--user", default="you", help="console user id to speak as (default: you)")
    chat.add_argument("--json", action="store_true", help="one JSON object a line for every bot message")
    chat.set_defaults(handler=_lazy("bot.commands.chat", "chat"))

    demo = commands.add_parser("demo", parents=[common], help="print a scripted walkthrough of the whole flow")
    demo.add_argument("--json", action="store_true", help="print the transcript as JSON lines")
    demo.set_defaults(handler=_lazy("bot.commands.chat", "demo"))

    run = commands.add_parser("run", parents=[common], help="run one or more channels in one process")
    run.add_argument("channels", nargs="+", choices=("console", "slack", "discord"))
    run.add_argument("--shard-ids", type=int, nargs="*", default=None, help="Discord shards this process runs")
    run.add_argument("--shard-count", type=int, default=None, help="Discord shards in all")
    run.set_defaults(handler=_lazy("bot.commands.run", "run"))

    stats = commands.add_parser("stats", parents=[common], help="service and sales figures")
    stats.add_argument("--since", default="7d", choices=("7d", "30d", "all"))
    stats.add_argument("--from", dest="date_from", type=_day, default=None, metavar="YYYY-MM-DD",
                       help="first day (UTC) of the period; overrides --since")
    stats.add_argument("--to", dest="date_to", type=_day, default=None, metavar="YYYY-MM-DD",
                       help="last day (UTC) of the period, included; overrides --since")
    stats_output = stats.add_mutually_exclusive_group()
    stats_output.add_argument("--json", action="store_true")
    stats_output.add_argument("--csv", action="store_true", help="print field,value rows")
    stats.add_argument("--chart", type=Path, default=None, metavar="PATH", help="also write the chart as a PNG")
    stats.set_defaults(handler=_lazy("bot.commands.data", "stats"))

    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_actions.add_parser("upgrade", parents=[common], help="apply migrations").set_defaults(
        handler=_lazy("bot.commands.data", "db_upgrade"))

    for name, help_text in (("export", "print a customer's data as JSON"), ("forget", "erase a customer")):
        sub = commands.add_parser(name, parents=[common], help=help_text)
        sub.add_argument("--customer", required=True, help="customer key (console:alice) or numeric id")
        sub.set_defaults(handler=_lazy("bot.commands.data", name))

    cli_nlu.register(commands, common)
    cli_discord.register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, load the config, and run the command."""
    args = build_parser().parse_args(argv)
    scrubber = configure_logging(verbose=args.verbose, secrets=_known_secrets(args.config))
    database = "the database"
    try:
        if hasattr(args, "func"):
            return int(args.func(args))
        config = load_config(args.config)
        database = _safe_url(config.database.url.get_secret_value())
        handler: Handler = args.handler
        return handler(args, config)
    except (ConfigError, KnowledgeError, ValueError) as error:
        print(f"concierge: error: {scrubber.scrub(_first_line(error))}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        # Database errors name the problem (and the database without its password), never the URL itself.
        print(f"concierge: error: {database}: {scrubber.scrub(_first_line(error))}", file=sys.stderr)
        return 1
    except OSError as error:
        message = f"{type(error).__name__}: {_first_line(error)} ({database})"
        print(f"concierge: error: {scrubber.scrub(message)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _known_secrets(path: Path | None) -> list[str]:
    """Return every secret in the config and environment, even when the config itself is unusable."""
    found = [os.environ.get(variable, "") for variable, (_, key) in ENVIRONMENT_KEYS.items()
             if key in ("url", "bot_token", "signing_secret", "app_token", "token")]
    with contextlib.suppress(ConfigError, ValueError):
        found += load_config(path).secrets()
    database_url = os.environ.get("CONCIERGE_DATABASE_URL")
    with contextlib.suppress(ArgumentError, ValueError):
        found.append((make_url(database_url).password or "") if database_url else "")
    return [secret for secret in found if secret]


def _safe_url(url: str) -> str:
    """Return the database URL with its password masked, for error messages."""
    try:
        return f"database {make_url(url).render_as_string(hide_password=True)}"
    except (ArgumentError, ValueError):
        return "the database (its URL could not be parsed)"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _day(value: str) -> date:
    """Parse a YYYY-MM-DD day for --from/--to."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {value!r}") from None


def _lazy(module: str, function: str) -> Handler:
    """Import a command's module only when it runs, so `concierge --help` stays fast."""
    def handler(args: argparse.Namespace, config: Config) -> int:
        from importlib import import_module

        command: Callable[[argparse.Namespace, Config], int] = getattr(import_module(module), function)
        return command(args, config)
    return handler



if __name__ == "__main__":
    sys.exit(main())
