"""When shifts change hands: the same local wall-clock time, whatever DST does.

A rotation's n-th handoff is its first handoff plus n shift lengths counted on the wall
clock of the rotation's zone (so a daily 09:00 handoff stays at 09:00, and a day across a DST
change lasts 23 or 25 hours). A handoff time that does not exist on a spring-forward day
(02:30 in New York on the second Sunday of March) happens as if the clock had not jumped
yet: 02:30 standard time, which is 03:30 summer time. A handoff time that happens twice on
a fall-back day happens at its first occurrence. Both follow PEP 495's fold=0 rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.roster import Rotation


@dataclass(frozen=True)
class Slot:
    """The n-th shift of a rotation, before anyone is assigned to it."""

    index: int
    start: datetime  # aware, UTC
    end: datetime


def _local_handoff(rotation: Rotation, index: int) -> datetime:
    """The naive local wall-clock time of handoff number `index`."""
    first = datetime.combine(rotation.start, rotation.handoff_time)
    if rotation.handoff_weekday is not None:
        first += timedelta(days=(rotation.handoff_weekday - first.weekday()) % 7)
    return first + index * rotation.shift.wall_clock()


def handoff_at(rotation: Rotation, index: int) -> datetime:
    """The instant (UTC) of handoff number `index` (0 is the rotation's first handoff)."""
    return _local_handoff(rotation, index).replace(tzinfo=rotation.zone).astimezone(UTC)


def index_at(rotation: Rotation, instant: datetime) -> int:
    """The number of the slot that contains `instant` (negative before the first handoff)."""
    local = instant.astimezone(rotation.zone).replace(tzinfo=None)
    index = (local - _local_handoff(rotation, 0)) // rotation.shift.wall_clock()
    # Around a DST change the wall-clock estimate can be one slot off: settle it exactly.
    while handoff_at(rotation, index) > instant:
        index -= 1
    while handoff_at(rotation, index + 1) <= instant:
        index += 1
    return index


def slots(rotation: Rotation, start: datetime, end: datetime) -> Iterator[Slot]:
    """Every slot overlapping [start, end), from the rotation's first handoff on."""
    index = max(index_at(rotation, start), 0)
    slot_start = handoff_at(rotation, index)
    while slot_start < end:
        slot_end = handoff_at(rotation, index + 1)
        yield Slot(index=index, start=slot_start, end=slot_end)
        index, slot_start = index + 1, slot_end


def after_wall_clock(instant: datetime, span: timedelta, zone: ZoneInfo) -> datetime:
    """`span` after `instant` on the wall clock of `zone`.

    Rest gaps are counted this way: a shift ending Monday 09:00 and the next starting the
    Monday after at 09:00 are a week apart even when the clocks changed in between.
    """
    local = instant.astimezone(zone).replace(tzinfo=None) + span
    return local.replace(tzinfo=zone).astimezone(UTC)
