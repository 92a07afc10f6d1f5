"""Reading instants and months that people type: ISO 8601 with an offset, or a plain date.

Every instant a request or a command line gives onwatch is also checked against a range
around now (`InstantRange`): the rota generates every shift from a rotation's start up to
the latest instant it is asked about and keeps them in memory, and a report loads a month of
them, so an instant in the year 3000 costs minutes of CPU and hundreds of megabytes, and one
near year 9999 overflows `datetime` arithmetic (a 500). Nobody on call plans or looks back
further than a few years, so the range costs nothing real and bounds the work of one request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from scheduler.burden import Month

# Instants onwatch accepts lie within this many days of now, either side (five years: plenty
# for rota history and planning, and the rota's memo stays a few megabytes).
INSTANT_YEARS = 5
INSTANT_REACH = timedelta(days=round(365.25 * INSTANT_YEARS))
# Burden reports: the current month and the REPORT_YEARS * 12 months before it.
REPORT_YEARS = 10


@dataclass(frozen=True)
class InstantRange:
    """The instants a request may name: [earliest, latest], both aware UTC."""

    earliest: datetime
    latest: datetime
    reach: str = f"{INSTANT_YEARS} years"  # "within <reach> of now", for the error message

    def check(self, instant: datetime, text: str) -> datetime:
        """`instant`, or ValueError naming the range (what `text` said is echoed)."""
        if not self.earliest <= instant <= self.latest:
            raise ValueError(f'"{_shown(text)}" is out of range: {self.describe()}')
        return instant

    def describe(self) -> str:
        """The range as people read it, for error messages."""
        first, last = (t.isoformat(timespec="seconds") for t in (self.earliest, self.latest))
        return f"expected an instant within {self.reach} of now, from {first} to {last}"


def instant_range(
    now: datetime, reach: timedelta = INSTANT_REACH, *, described: str = ""
) -> InstantRange:
    """The instants accepted at `now`: `reach` either side (clamped to what datetime holds).

    `described` says `reach` in words for error messages (default: INSTANT_YEARS years).
    """
    floor = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
    ceiling = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
    earliest = now - reach if now - floor > reach else floor
    latest = now + reach if ceiling - now > reach else ceiling
    return InstantRange(
        earliest.astimezone(UTC),
        latest.astimezone(UTC),
        described or f"{INSTANT_YEARS} years",
    )


def parse_instant(
    text: str, *, date_zone: tzinfo = UTC, within: InstantRange | None = None
) -> datetime:
    """An aware UTC datetime from `2026-12-01T09:00:00Z`, `...+01:00` or `2026-12-01`.

    A plain date means its midnight in `date_zone`. A date-time without an offset is
    refused: guessing its zone is how on-call shifts end up an hour off. With `within`, an
    instant outside that range is refused too (ValueError naming the range).
    """
    text = text.strip()
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time(0), date_zone)
        else:
            parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise ValueError(
            f'"{_shown(text)}" is not a date (2026-12-01) or a date-time with offset '
            "(2026-12-01T09:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f'"{_shown(text)}" has no time zone offset: add Z or +HH:MM')
    try:
        instant = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC instant
        raise ValueError(f'"{_shown(text)}" is out of range') from None
    return within.check(instant, text) if within is not None else instant


def report_months(now: datetime, zone: ZoneInfo) -> tuple[Month, Month]:
    """The first and last month a burden report may be asked for at `now`, on `zone`'s calendar.

    From REPORT_YEARS back to the current month (which the report covers so far): a month
    in the future has nothing to report, and each month asked for generates the rota up to
    its end (the reason `9999-12` once ran for minutes).
    """
    last = Month.containing(now, zone)
    return Month(last.year - REPORT_YEARS, last.month, zone), last


def parse_month(text: str, *, zone: ZoneInfo, now: datetime) -> Month:
    """`2026-11` as a Month within `report_months`; ValueError naming the form or the range."""
    month = Month.parse(text, zone)
    first, last = report_months(now, zone)
    if not (first.year, first.month) <= (month.year, month.month) <= (last.year, last.month):
        raise ValueError(
            f'"{_shown(text)}" is out of range: expected a month from {first.label} '
            f"to {last.label} (the current month)"
        )
    return month


def _shown(text: str, limit: int = 40) -> str:
    """`text` as an error message may echo it: short, whatever the caller sent."""
    return text if len(text) <= limit else text[:limit] + "..."
