"""Talk to the real core the way a console user would, and read back what the bot said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.app import Concierge
from handlers.messages import Inbound, Kind, Reply


class StepClock:
    """A clock that stands still unless a test moves it, so timings are exact."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class ChatDriver:
    """Send messages, presses and commands as any user; keep every reply in order."""

    def __init__(self, core: Concierge, clock: StepClock, platform: str = "console") -> None:
        self.core = core
        self.clock = clock
        self.platform = platform
        self.transcript: list[Reply] = []

    async def say(self, user: str, text: str, **extra: object) -> list[Reply]:
        """Send typed text as `user` and return the bot's replies."""
        return await self._send(Inbound(self.platform, user, text=text, **extra))  # type: ignore[arg-type]

    async def press(self, user: str, button_id: str) -> list[Reply]:
        """Press a button by id as `user`."""
        return await self._send(Inbound(self.platform, user, button_id=button_id))

    async def press_label(self, user: str, number: int) -> list[Reply]:
        """Press the N-th button (from 1) of the latest message with buttons sent to `user`."""
        latest = next(r for r in reversed(self.transcript) if r.to == user and r.buttons)
        return await self.press(user, latest.buttons[number - 1].id)

    async def command(self, user: str, command: str, *args: str) -> list[Reply]:
        """Run a chat command as `user`."""
        return await self._send(Inbound(self.platform, user, command=command, args=args))

    async def advance(self, delta: timedelta) -> list[Reply]:
        """Move the clock forward and fire the follow-ups that became due."""
        self.clock.advance(delta)
        replies = await self.core.fire_due_followups()
        self.transcript.extend(replies)
        return replies

    def kinds(self, user: str | None = None) -> list[Kind]:
        """Return the kinds of every message so far (to one user, if named)."""
        return [r.kind for r in self.transcript if user is None or r.to == user]

    def button(self, replies: list[Reply], prefix: str) -> str:
        """Return the id of the first button in `replies` whose id starts with `prefix`."""
        return next(b.id for r in replies for b in r.buttons if b.id.startswith(prefix))

    async def _send(self, inbound: Inbound) -> list[Reply]:
        self.clock.advance(timedelta(seconds=1))
        replies = await self.core.handle(inbound)
        self.transcript.extend(replies)
        return replies
