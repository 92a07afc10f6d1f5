"""Night pages: which pages woke someone, and when a shift's nights get too heavy.

The seed's rule is "if averaging >2 pages/night, fix the alerts or staff up". A night is the
person's own night window (default 22:00-07:00) in their own time zone; the average is taken
over the nights of their current shift that have begun so far. Pure: time is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scheduler.roster import Person

# More than this many night pages per night, on average, is the seed's "too many".
NIGHT_PAGE_LIMIT = 2.0


def night_of_local(local: datetime, start: time, end: time) -> date | None:
    """The local date the night window [start, end) containing wall-clock `local` began on.

    None when `local` is outside it; a window whose end is before its start crosses midnight.
    """
    clock = local.time()
    if start <= end:  # a window within one day, e.g. 00:00-06:00
        return local.date() if start <= clock < end else None
    if clock >= start:  # evening part of a window that crosses midnight
        return local.date()
    if clock < end:  # morning part: the night began the evening before
        return local.date() - timedelta(days=1)
    return None


def is_night_page(person: Person, at: datetime) -> bool:
    """True when a page at `at` falls in the person's night window, on their clock."""
    local = at.astimezone(person.zone)
    return night_of_local(local, person.night_start, person.night_end) is not None


def night_window(person: Person, day: date) -> tuple[datetime, datetime]:
    """The person's night beginning on local date `day`, as aware instants."""
    crosses = person.night_end <= person.night_start
    start = datetime.combine(day, person.night_start, person.zone)
    end = datetime.combine(day + timedelta(days=1 if crosses else 0), person.night_end, person.zone)
    return start, end


def per_night(night_pages: int, nights: int) -> float:
    """Night pages per night, unrounded (all of them when there is no night to share them)."""
    return night_pages / nights if nights else float(night_pages)


def nights_begun(person: Person, start: datetime, now: datetime) -> int:
    """How many of the person's night windows overlap [start, now]."""
    if now <= start:
        return 0
    zone = person.zone
    count = 0
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = now.astimezone(zone).date()
    while day <= last:
        night_start, night_end = night_window(person, day)
        if night_start.astimezone(UTC) <= now and night_end.astimezone(UTC) > start:
            count += 1
        day += timedelta(days=1)
    return count


@dataclass(frozen=True)
class NightLoad:
    """One person's night pages over the nights of a shift so far."""

    night_pages: int
    nights: int

    @property
    def average(self) -> float:
        """Night pages per night (all of them before any night has begun)."""
        return per_night(self.night_pages, self.nights)

    @property
    def over_limit(self) -> bool:
        """True when the average is above the seed's two pages a night."""
        return self.average > NIGHT_PAGE_LIMIT


def night_load(
    person: Person, pages: Iterable[datetime], shift_start: datetime, now: datetime
) -> NightLoad:
    """The person's night load for the shift that began at `shift_start`, as of `now`."""
    night_pages = sum(1 for at in pages if shift_start <= at <= now and is_night_page(person, at))
    return NightLoad(night_pages=night_pages, nights=max(nights_begun(person, shift_start, now), 1))
