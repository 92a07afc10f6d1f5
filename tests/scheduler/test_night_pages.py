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
