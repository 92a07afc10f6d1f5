"""The rota as a calendar: weeks across, layers down, each cell the shifts of that layer that
begin that week, marked when an override made them or a rota rule is broken in them.

Week boundaries are midnight on Mondays on the rotation's own wall clock, so a week that
contains a DST change is 167 or 169 hours long and every handoff lands in the right column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from scheduler.check import Violation
from scheduler.roster import Rotation
from scheduler.shifts import Shift

MAX_WEEKS = 12


@dataclass(frozen=True)
class Week:
    """One column: [start, end) from Monday midnight to Monday midnight, rotation time."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Cell:
    """One layer's shifts in one week, and whether each breaks a rule."""

    shifts: tuple[Shift, ...]
    troubled: frozenset[int]  # positions in `shifts` of shifts a violation touches


@dataclass(frozen=True)
class Grid:
    """The calendar: its weeks, and for each layer a cell per week."""

    weeks: tuple[Week, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]


def weeks_from(rotation: Rotation, first_day: date, count: int) -> tuple[Week, ...]:
    """`count` weeks from the Monday on or before `first_day`, on the rotation's clock."""
    monday = first_day - timedelta(days=first_day.weekday())
    starts = [
        datetime.combine(monday + timedelta(weeks=n), time(0), tzinfo=rotation.zone)
        for n in range(count + 1)
    ]
    return tuple(Week(starts[n], starts[n + 1]) for n in range(count))


def grid(
    rotation: Rotation,
    weeks: tuple[Week, ...],
    shifts: list[Shift],
    violations: list[Violation],
) -> Grid:
    """Place `shifts` (the rotation's, overrides applied) in the week each starts in; the
    first week also shows the shift already running when it begins."""
    rows = []
    for layer in rotation.layers:
        cells = []
        for n, week in enumerate(weeks):
            mine = tuple(
                s
                for s in shifts
                if s.layer == layer.name
                and (week.start <= s.start < week.end or (n == 0 and s.start < week.start < s.end))
            )
            troubled = frozenset(
                n for n, s in enumerate(mine) if s.rest_broken or _touched(s, violations)
            )
            cells.append(Cell(mine, troubled))
        rows.append((layer.name, tuple(cells)))
    return Grid(weeks, tuple(rows))


def _touched(shift: Shift, violations: list[Violation]) -> bool:
    for violation in violations:
        if violation.person != shift.person or violation.person is None:
            continue
        if violation.start is None or violation.end is None:
            return True
        if shift.overlaps(violation.start, violation.end):
            return True
    return False
