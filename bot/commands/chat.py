"""`concierge chat` and `concierge demo`: the console channel over the real core and database."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from bot.channels.console import ConsoleChannel
from bot.config import Config
from bot.hub import Hub
from bot.wiring import Runtime, open_runtime

DEMO_SCRIPT = """\
/as ana
hi
My battery only lasts about 15 km now, it used to do 60
yes
5
/press 1
/advance 4d
yes
/as ben
WHERE IS MY ORDER?? This is the third time I'm asking!!!
no
no
/press 1
/as agent
/queue
/claim 1
/reply 1 Hi Ben, I'm Sam from the shop. Your order left us yesterday; the courier brings it tomorrow.
/note 1 Courier delay; asked for a morning slot
/as ben
Thank you, that's a relief
/as agent
/release 1
/as ben
/press 4
/as manager
/stats all
"""


def chat(args: argparse.Namespace, config: Config) -> int:
    """Hold a conversation in the terminal (or from a pipe) as `--user`."""
    asyncio.run(_converse(config, args.user, json_lines=args.json, stdin=sys.stdin))
    return 0


def demo(args: argparse.Namespace, config: Config) -> int:
    """Play the scripted walkthrough on a fresh temporary database and print the transcript."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"
        roles = config.roles.model_copy(update={"managers": ("console:manager",), "agents": ("console:agent",)})
        demo_config = config.model_copy(update={
            "database": config.database.model_copy(update={"url": SecretStr(url)}), "roles": roles,
        })
        echo = _EchoingInput(DEMO_SCRIPT, show=not args.json)
        asyncio.run(_converse(demo_config, "ana", json_lines=args.json, stdin=echo))
    return 0


async def _converse(config: Config, user: str, *, json_lines: bool, stdin: io.TextIOBase | object) -> None:
    async with open_runtime(config) as runtime:
        # Replies are marked sent, so a later `run console` on this database does not send them again.
        hub = Hub(runtime.core, outbox=runtime.outbox)
        console = ConsoleChannel(user, json_lines=json_lines, advance=_advancer(runtime, hub),
                                 stdin=stdin)  # type: ignore[arg-type]
        hub.attach(console)
        await console.run(hub)


def _advancer(runtime: Runtime, hub: Hub):  # type: ignore[no-untyped-def]
    async def advance(delta: timedelta) -> None:
        runtime.clock.advance(delta)
        await hub.deliver(await runtime.core.fire_due_followups())
    return advance


class _EchoingInput(io.StringIO):
    """Feed the demo script line by line, printing each line as the user typed it."""

    def __init__(self, script: str, *, show: bool) -> None:
        super().__init__(script)
        self._show = show

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        line = super().readline()
        if line and self._show:
            print(f"\n>>> {line.rstrip()}", flush=True)
        return line
