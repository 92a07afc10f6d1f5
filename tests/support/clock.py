"""An injected clock that tests move by hand, instead of patching time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 28, 6, 45, tzinfo=UTC)


class Clock:
    """An injected clock that tests move by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
