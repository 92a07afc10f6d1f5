"""Night pages: which pages woke someone, and when a shift's nights get too heavy.

The seed's rule is "if averaging >2 pages/night, fix the alerts or staff up". A night is the
person's own night window (default 22:00-07:00) in their own time zone; the average is taken
over the nights of their current shift that have begun so far. Pure: time is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from scheduler.roster import Person

# More than this many night pages per night, on average, is the seed's "too many".
NIGHT_PAGE_LIMIT = 2.0


def night_of_local(local: datetime, start: time, end: time) -> date | None:
    """The local date the night window [start, end) containing `local` began on, if any.

    `local` is aware, in the person's zone. One definition decides everything about nights:
    the window's instants (`window_instants`), so an instant is in the night exactly when it
    lies between the two instants its window begins and ends at, whatever DST does to the
    clock that night. A window whose end is not after its start crosses midnight.
    """
    zone = local.tzinfo
    assert zone is not None
    instant = local.astimezone(UTC)
    for day in (local.date() - timedelta(days=1), local.date()):
        begins, ends = window_instants(day, start, end, zone)
        if begins <= instant < ends:
            return day
    return None


def window_instants(day: date, start: time, end: time, zone: tzinfo) -> tuple[datetime, datetime]:
    """The night window beginning on local date `day` as UTC instants.

    An edge on a wall-clock time the clocks skip or repeat that night is placed as handoffs
    are (PEP 495's fold=0): a skipped time as if the clock had not jumped yet, a repeated
    time at its first occurrence. So London's 22:00-01:30 ends at 00:30 UTC on the night
    the clocks go back, and a page at 01:15 GMT (the second 01:15) is not a night page.
    """
    crosses = end <= start
    begins = datetime.combine(day, start, zone).astimezone(UTC)
    ends = datetime.combine(day + timedelta(days=1 if crosses else 0), end, zone).astimezone(UTC)
    return begins, ends


def is_night_page(person: Person, at: datetime) -> bool:
    """True when a page at `at` falls in the person's night window, on their clock."""
    local = at.astimezone(person.zone)
    return night_of_local(local, person.night_start, person.night_end) is not None


def night_window(person: Person, day: date) -> tuple[datetime, datetime]:
    """The person's night beginning on local date `day`, as aware (UTC) instants."""
    return window_instants(day, person.night_start, person.night_end, person.zone)


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
