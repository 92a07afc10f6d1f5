"""Night maths for the burden report: which night an instant is in, and nights on call.

A night is the person's own night window on their own clock, named by the local date it
begins on (`scheduler.night_pages` holds the window itself); a night on call is one of their
nights that overlaps one of their shifts within the month. Shift intervals are merged first
(`_merge`: overlapping or touching ones become one), so that hours on call where shifts
overlap are counted once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from scheduler.burden.values import Month
from scheduler.night_pages import night_of_local, night_window
from scheduler.roster import Person


def night_of(person: Person, at: datetime) -> date | None:
    """The local date the person's night containing `at` began on, if `at` is in one."""
    return night_of_local(at.astimezone(person.zone), person.night_start, person.night_end)


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def nights_on_call(
    person: Person, intervals: Sequence[tuple[datetime, datetime]], month: Month
) -> list[date]:
    """The person's nights that overlap one of `intervals` (already clipped to the month)."""
    if not intervals:
        return []
    zone, one = person.zone, timedelta(days=1)
    first = month.start.astimezone(zone).date() - one
    last = month.end.astimezone(zone).date()
    # A night (at most a day long, beginning on its local date) can only overlap an interval
    # if it begins between the day before the interval's first day and its last day.
    candidates: set[date] = set()
    for s, e in intervals:
        day, until = (
            max(s.astimezone(zone).date() - one, first),
            min(e.astimezone(zone).date(), last),
        )
        while day <= until:
            candidates.add(day)
            day += one
    nights = []
    for day in sorted(candidates):
        start, end = night_window(person, day)
        if any(s < end and start < e for s, e in intervals):
            nights.append(day)
    return nights
