"""Handoffs stay at the same local wall-clock time across real DST transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduler.handoffs import after_wall_clock, handoff_at, index_at, slots
from scheduler.roster import ShiftLength, ShiftUnit
from tests.support.rota_builders import DAILY, LONDON, NEW_YORK, SYDNEY, rotation


@pytest.mark.parametrize(
    ("zone", "start", "handoff", "expected_hours"),
    [
        # Each starts two days before a real transition, so the middle day is 23 or 25 hours.
        # Europe/London: spring forward 2027-03-28 01:00 UTC, fall back 2026-10-25 01:00 UTC.
        (LONDON, date(2027, 3, 26), time(9), [24, 23, 24]),
        (LONDON, date(2026, 10, 23), time(9), [24, 25, 24]),
        # America/New_York: spring forward 2027-03-14, fall back 2026-11-01.
        (NEW_YORK, date(2027, 3, 12), time(9), [24, 23, 24]),
        (NEW_YORK, date(2026, 10, 30), time(9), [24, 25, 24]),
        # Australia/Sydney (southern hemisphere): forward 2026-10-04, back 2027-04-04.
        (SYDNEY, date(2026, 10, 2), time(9), [24, 23, 24]),
        (SYDNEY, date(2027, 4, 2), time(9), [24, 25, 24]),
    ],
)
def test_handoffs_daily_keep_wall_clock_across_dst(
    zone, start: date, handoff: time, expected_hours: list[int]
) -> None:
    daily = rotation(zone=zone, length=DAILY, handoff=handoff, weekday=None, start=start)
    window_end = handoff_at(daily, 3)

    found = list(slots(daily, handoff_at(daily, 0), window_end))

    assert [int((s.end - s.start).total_seconds() // 3600) for s in found] == expected_hours
    assert all(s.start.astimezone(zone).time() == handoff for s in found)


def test_handoffs_weekly_monday_0900_london_all_year() -> None:
    weekly = rotation(start=date(2026, 11, 4))  # a Wednesday: first handoff is Monday 9th

    found = list(slots(weekly, handoff_at(weekly, 0), datetime(2027, 11, 1, tzinfo=UTC)))

    assert found[0].start == datetime(2026, 11, 9, 9, tzinfo=UTC)
    for slot in found:
        local = slot.start.astimezone(LONDON)
        assert (local.weekday(), local.time()) == (0, time(9))
    lengths = {slot.end - slot.start for slot in found}
    assert lengths == {timedelta(days=7), timedelta(days=7, hours=-1), timedelta(days=7, hours=1)}


def test_handoffs_in_skipped_hour_happen_as_if_clock_had_not_jumped() -> None:
    # New York, 2027-03-14: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
    daily = rotation(
        zone=NEW_YORK, length=DAILY, handoff=time(2, 30), weekday=None, start=date(2027, 3, 13)
    )

    days = [handoff_at(daily, n) for n in range(3)]

    assert days[0] == datetime(2027, 3, 13, 7, 30, tzinfo=UTC)  # 02:30 EST
    assert days[1] == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)  # "02:30 EST" = 03:30 EDT
    assert days[1].astimezone(NEW_YORK).time() == time(3, 30)
    assert days[2] == datetime(2027, 3, 15, 6, 30, tzinfo=UTC)  # 02:30 EDT


def test_handoffs_in_repeated_hour_happen_at_first_occurrence() -> None:
    # London, 2026-10-25: 01:30 happens twice (BST, then GMT).
    daily = rotation(length=DAILY, handoff=time(1, 30), weekday=None, start=date(2026, 10, 24))

    assert handoff_at(daily, 1) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert handoff_at(daily, 2) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # 01:30 GMT


def test_handoffs_twelve_hour_shifts_follow_wall_clock() -> None:
    halves = rotation(
        zone=SYDNEY,
        length=ShiftLength(12, ShiftUnit.HOURS),
        handoff=time(8),
        weekday=None,
        start=date(2026, 10, 3),
    )

    local = [handoff_at(halves, n).astimezone(SYDNEY).time() for n in range(6)]

    assert local == [time(8), time(20)] * 3


@pytest.mark.parametrize("minutes", [0, 1, 60 * 24 * 7 - 1, 60 * 24 * 200])
def test_index_at_finds_containing_slot(minutes: int) -> None:
    weekly = rotation()
    instant = handoff_at(weekly, 0) + timedelta(minutes=minutes)

    index = index_at(weekly, instant)

    assert handoff_at(weekly, index) <= instant < handoff_at(weekly, index + 1)


def test_after_wall_clock_counts_a_week_across_spring_forward() -> None:
    ended = datetime(2027, 3, 22, 9, tzinfo=UTC)  # Monday 09:00 GMT

    assert after_wall_clock(ended, timedelta(days=7), LONDON) == datetime(
        2027,
        3,
        29,
        8,
        tzinfo=UTC,  # Monday 09:00 BST
    )
