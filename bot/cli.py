"""The `concierge` command line. Every command takes --config and fails with a one-line error."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from bot import cli_discord, cli_nlu
from bot.config import Config, ConfigError, load_config
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
    try:
        if hasattr(args, "func"):
            configure_logging(verbose=args.verbose, secrets=[])
            return int(args.func(args))
        config = load_config(args.config)
        configure_logging(verbose=args.verbose, secrets=config.secrets())
        handler: Handler = args.handler
        return handler(args, config)
    except (ConfigError, KnowledgeError, ValueError) as error:
        print(f"concierge: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


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
