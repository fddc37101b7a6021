"""The console channel: one message a line from stdin, replies to stdout (text or JSON lines).

Lines starting with `/` are console commands (`/as`, `/press`, `/advance`) or chat commands
(`/stats 7d`, `/optout`, `/handoff`, `/help`, agent commands) passed to the core as commands.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TextIO

from bot.channels.base import Inbox
from bot.config import parse_duration
from handlers.messages import Button, Inbound, Reply

Advance = Callable[[timedelta], Awaitable[None]]
_LOCAL_COMMANDS = ("as", "press", "advance", "quit")


class ConsoleChannel:
    """Read lines as the current console user and print every console user's messages."""

    platform = "console"

    def __init__(self, user: str, *, json_lines: bool, advance: Advance,
                 stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.user = user
        self.json_lines = json_lines
        self._advance = advance
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._buttons: dict[str, tuple[Button, ...]] = {}

    async def run(self, inbox: Inbox) -> None:
        """Read stdin until it ends, handling each line before reading the next."""
        loop = asyncio.get_running_loop()
        while True:
            if not self.json_lines and self._stdin.isatty():
                self._stdout.write(f"{self.user}> ")
                self._stdout.flush()
            line = await loop.run_in_executor(None, self._stdin.readline)
            if not line:
                return
            if not await self.handle_line(line.rstrip("\r\n"), inbox):
                return

    async def handle_line(self, line: str, inbox: Inbox) -> bool:
        """Handle one typed line; return False to stop."""
        if not line.startswith("/"):
            await inbox.receive(Inbound("console", self.user, text=line))
            return True
        name, _, rest = line[1:].partition(" ")
        name, rest = name.lower(), rest.strip()
        if name not in _LOCAL_COMMANDS:
            await inbox.receive(Inbound("console", self.user, command=name, args=tuple(rest.split())))
            return True
        if name == "quit":
            return False
        if name == "as":
            self._switch_user(rest)
        elif name == "press":
            await self._press(rest, inbox)
        else:
            await self._advance_clock(rest)
        return True

    async def deliver(self, reply: Reply) -> None:
        """Print a message for any console user, and remember its buttons for `/press`."""
        if reply.buttons:
            self._buttons[reply.to] = reply.buttons
        if self.json_lines:
            record = {"to": reply.to, "kind": str(reply.kind), "text": reply.text,
                      "buttons": [{"id": b.id, "label": b.label} for b in reply.buttons]}
            self._stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            self._stdout.write(_as_text(reply))
        self._stdout.flush()

    def _switch_user(self, user: str) -> None:
        if not user or any(ch.isspace() for ch in user):
            self._notice("usage: /as USER_ID")
            return
        self.user = user

    async def _press(self, choice: str, inbox: Inbox) -> None:
        buttons = self._buttons.get(self.user, ())
        button_id = choice
        if choice.isdigit():
            index = int(choice) - 1
            if not 0 <= index < len(buttons):
                self._notice(f"no button {choice} on your latest message with buttons")
                return
            button_id = buttons[index].id
        if not button_id:
            self._notice("usage: /press N or /press BUTTON_ID")
            return
        await inbox.receive(Inbound("console", self.user, button_id=button_id))

    async def _advance_clock(self, amount: str) -> None:
        try:
            delta = parse_duration(amount)
        except ValueError as error:
            self._notice(str(error))
            return
        await self._advance(delta)

    def _notice(self, text: str) -> None:
        """Tell the console user about a console-level mistake (never sent to the core)."""
        if self.json_lines:
            self._stdout.write(json.dumps({"to": self.user, "kind": "notice", "text": text, "buttons": []}) + "\n")
        else:
            self._stdout.write(f"  ! {text}\n")
        self._stdout.flush()


def _as_text(reply: Reply) -> str:
    lines = [f"[{reply.kind} → {reply.to}] {reply.text}"]
    lines += [f"    ({number}) {button.label}" for number, button in enumerate(reply.buttons, start=1)]
    lines += [f"    [attached {a.filename}, {len(a.content)} bytes]" for a in reply.attachments]
    return "\n".join(lines) + "\n"
