"""A shift: who is on call for one layer of one rotation, from one instant to another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ShiftSource(StrEnum):
    SCHEDULE = "schedule"  # generated from the rotation's order
    OVERRIDE = "override"  # someone covering a range by request


@dataclass(frozen=True)
class Shift:
    """One person on call (or, with `person=None`, nobody: a gap) for [start, end)."""

    rotation: str
    layer: str
    index: int  # the rotation's slot number this shift belongs to
    start: datetime  # aware, UTC
    end: datetime
    person: str | None
    source: ShiftSource = ShiftSource.SCHEDULE
    override_id: int | None = None
    # Why the schedule could not do better here: a gap's cause, or a rest gap it had to break.
    note: str = ""
    rest_broken: bool = False

    @property
    def is_gap(self) -> bool:
        """True when nobody is on call."""
        return self.person is None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """True when the shift and [start, end) share an instant."""
        return self.start < end and start < self.end
