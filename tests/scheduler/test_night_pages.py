"""Night pages on the person's own clock, and the seed's two-pages-a-night limit."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from scheduler.night_pages import is_night_page, night_load, nights_begun
from scheduler.roster import Person
from tests.support.rota_builders import LONDON, NEW_YORK, SYDNEY


def someone(zone, start: time = time(22), end: time = time(7)) -> Person:  # type: ignore[no-untyped-def]
    return Person("p", "p@example.com", zone, night_start=start, night_end=end)


@pytest.mark.parametrize(
    ("zone", "utc", "night"),
    [
        (LONDON, datetime(2026, 11, 28, 21, 59, tzinfo=UTC), False),
        (LONDON, datetime(2026, 11, 28, 22, 0, tzinfo=UTC), True),
        (LONDON, datetime(2026, 11, 29, 6, 59, tzinfo=UTC), True),
        (LONDON, datetime(2026, 11, 29, 7, 0, tzinfo=UTC), False),
        (LONDON, datetime(2026, 7, 1, 21, 30, tzinfo=UTC), True),  # 22:30 BST
        (NEW_YORK, datetime(2026, 11, 29, 3, 30, tzinfo=UTC), True),  # 22:30 EST
        (NEW_YORK, datetime(2026, 11, 28, 22, 30, tzinfo=UTC), False),  # 17:30 EST
        (SYDNEY, datetime(2026, 11, 28, 14, 0, tzinfo=UTC), True),  # 01:00 AEDT
    ],
)
def test_night_page_uses_persons_own_clock(zone, utc: datetime, night: bool) -> None:  # type: ignore[no-untyped-def]
    assert is_night_page(someone(zone), utc) is night


def test_night_window_within_one_day() -> None:
    early = someone(LONDON, time(0), time(6))

    assert is_night_page(early, datetime(2026, 11, 28, 5, 59, tzinfo=UTC))
    assert not is_night_page(early, datetime(2026, 11, 28, 23, 0, tzinfo=UTC))


def test_nights_begun_counts_windows_overlapping_span() -> None:
    person = someone(LONDON)
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)

    assert nights_begun(person, monday, monday + timedelta(hours=12)) == 0
    assert nights_begun(person, monday, monday + timedelta(hours=13)) == 1  # 22:00 Monday
    assert nights_begun(person, monday, monday + timedelta(days=7)) == 7


def test_night_load_flags_more_than_two_pages_a_night() -> None:
    person = someone(LONDON)
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)
    night = datetime(2026, 11, 23, 23, tzinfo=UTC)
    pages = [
        night,
        night + timedelta(hours=1),
        night + timedelta(hours=2),
        datetime(2026, 11, 23, 15, tzinfo=UTC),
    ]  # the daytime page does not count

    load = night_load(person, pages, monday, datetime(2026, 11, 24, 8, tzinfo=UTC))

    assert (load.night_pages, load.nights) == (3, 1)
    assert load.over_limit
    later = night_load(person, pages, monday, datetime(2026, 11, 25, 8, tzinfo=UTC))
    assert (later.night_pages, later.nights, later.average) == (3, 2, 1.5)
    assert not later.over_limit


# --- one definition of a night at DST edges (issue 18) -------------------------------------

from zoneinfo import ZoneInfo  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from scheduler.burden.nights import night_of  # noqa: E402
from scheduler.night_pages import night_window  # noqa: E402

EDGE_ZONES = [
    "Europe/London",
    "America/New_York",
    "Pacific/Chatham",
    "America/Santiago",
    "America/Havana",  # clocks change at midnight
    "Australia/Lord_Howe",
]


def _transitions(zone: ZoneInfo) -> list[datetime]:
    """The instants in 2026 at which the zone's UTC offset changes (to the hour)."""
    found, at = [], datetime(2026, 1, 1, tzinfo=UTC)
    while at.year == 2026:
        after = at + timedelta(hours=1)
        if at.astimezone(zone).utcoffset() != after.astimezone(zone).utcoffset():
            found.append(after)
        at = after
    return found


def test_night_window_and_night_pages_agree_on_londons_fall_back_night() -> None:
    # 22:00-01:30 on the night of 2026-10-25: 01:30 comes twice; the window ends at the first.
    person = someone(LONDON, time(22), time(1, 30))

    start, end = night_window(person, datetime(2026, 10, 24).date())

    assert (start, end) == (
        datetime(2026, 10, 24, 21, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    )
    assert is_night_page(person, datetime(2026, 10, 25, 0, 29, tzinfo=UTC))
    assert not is_night_page(person, datetime(2026, 10, 25, 1, 15, tzinfo=UTC))  # 01:15 GMT


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(EDGE_ZONES), st.data())
def test_a_page_is_a_night_page_exactly_when_a_night_window_holds_it(
    zone_name: str, data: st.DataObject
) -> None:
    # Window edges and pages are drawn around the zone's DST changes of 2026, where the wall
    # clock skips or repeats the edge (100 nights of 11 zone/window pairs disagreed before).
    zone = ZoneInfo(zone_name)
    edge = data.draw(st.sampled_from(_transitions(zone)))
    near = sorted(
        {(edge + timedelta(minutes=30 * k)).astimezone(zone).time() for k in range(-4, 5)}
        | {time(22), time(7), time(0)}
    )
    start = data.draw(st.sampled_from(near))
    end = data.draw(st.sampled_from([t for t in near if t != start]))  # equal: refused
    person = someone(zone, start, end)
    at = edge + timedelta(minutes=15 * data.draw(st.integers(-16, 16)))

    local_day = at.astimezone(zone).date()
    windows = {day: night_window(person, day) for day in (local_day - timedelta(days=1), local_day)}
    holding = [day for day, (s, e) in windows.items() if s <= at < e]

    assert is_night_page(person, at) == bool(holding)
    assert night_of(person, at) == (holding[0] if holding else None)
