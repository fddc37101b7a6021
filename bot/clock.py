"""The clock the core reads; the console can move it forward to fire follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class OffsetClock:
    """Real UTC time plus an offset that only grows (`/advance 3d`)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        if delta < timedelta():
            raise ValueError("the clock only moves forward")
        self.offset += delta
