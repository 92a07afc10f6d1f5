"""Small builders for rota tests: people and rotations with sensible defaults."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.roster import (
    Layer,
    Member,
    Person,
    Rotation,
    ShiftLength,
    ShiftUnit,
    Unavailability,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
WEEKLY = ShiftLength(1, ShiftUnit.WEEKS)
DAILY = ShiftLength(1, ShiftUnit.DAYS)


def person(name: str, zone: ZoneInfo = LONDON, *away: tuple[date, date]) -> Person:
    return Person(
        name=name,
        email=f"{name}@example.com",
        zone=zone,
        unavailable=tuple(Unavailability(first, last, "holiday") for first, last in away),
    )


def people(*names: str) -> dict[str, Person]:
    return {name: person(name) for name in names}


def rotation(
    name: str = "ops",
    members: tuple[str, ...] = ("a", "b", "c", "d"),
    *,
    layers: dict[str, tuple[str, ...]] | None = None,
    zone: ZoneInfo = LONDON,
    length: ShiftLength = WEEKLY,
    handoff: time = time(9, 0),
    weekday: int | None = 0,
    start: date = date(2026, 11, 2),
    rest: timedelta = timedelta(days=7),
    joins: dict[str, date] | None = None,
    leaves: dict[str, date] | None = None,
) -> Rotation:
    joins, leaves = joins or {}, leaves or {}
    return Rotation(
        name=name,
        zone=zone,
        members=tuple(Member(m, joins.get(m), leaves.get(m)) for m in members),
        layers=tuple(Layer(k, v) for k, v in (layers or {"primary": members}).items()),
        shift=length,
        handoff_time=handoff,
        handoff_weekday=weekday,
        start=start,
        min_rest=rest,
    )
