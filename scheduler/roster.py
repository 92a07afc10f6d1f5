"""Who can be on call: people, rotations, their layers and memberships (domain values).

Everything here is a frozen value built from the configuration; the rota math in
`handoffs`, `generation`, `overrides` and `oncall` works only with these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Unavailability:
    """Days a person cannot be on call (holiday, leave), both ends included, in their zone."""

    first_day: date
    last_day: date
    reason: str = ""

    def window(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The unavailable span as aware instants: first day 00:00 to the day after the last."""
        start = datetime.combine(self.first_day, time(0), zone)
        end = datetime.combine(self.last_day + timedelta(days=1), time(0), zone)
        return start, end


@dataclass(frozen=True)
class Person:
    """Someone who can be paged."""

    name: str
    email: str
    zone: ZoneInfo
    pagerduty_user_id: str = ""
    night_start: time = time(22, 0)  # their night, in their zone: pages here are night pages
    night_end: time = time(7, 0)
    unavailable: tuple[Unavailability, ...] = ()

    def is_available(self, start: datetime, end: datetime) -> bool:
        """True unless some unavailability overlaps [start, end)."""
        return self.unavailability_during(start, end) is None

    def unavailability_during(self, start: datetime, end: datetime) -> Unavailability | None:
        """The first unavailability overlapping [start, end), if any."""
        for period, (blocked_from, blocked_until) in self._windows:
            if blocked_from < end and start < blocked_until:
                return period
        return None

    @cached_property
    def _windows(self) -> tuple[tuple[Unavailability, tuple[datetime, datetime]], ...]:
        # Asked for every shift generated: compute the instants once per person.
        return tuple((period, period.window(self.zone)) for period in self.unavailable)


@dataclass(frozen=True)
class Member:
    """A person's place in a rotation, with the dates they join and leave it (local dates)."""

    person: str
    joins: date | None = None  # first day they can take a shift
    leaves: date | None = None  # first day they no longer can

    def is_member(self, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
        """True when the whole shift [start, end) falls inside the membership."""
        if self.joins is not None and start < datetime.combine(self.joins, time(0), zone):
            return False
        return self.leaves is None or end <= datetime.combine(self.leaves, time(0), zone)


class ShiftUnit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


_UNIT_HOURS = {ShiftUnit.HOURS: 1, ShiftUnit.DAYS: 24, ShiftUnit.WEEKS: 24 * 7}


@dataclass(frozen=True)
class ShiftLength:
    """How long one shift lasts, counted on the rotation's wall clock."""

    count: int
    unit: ShiftUnit

    def __str__(self) -> str:
        return f"{self.count} {self.unit.value if self.count != 1 else self.unit.value[:-1]}"

    def wall_clock(self) -> timedelta:
        """The nominal length; real lengths differ by an hour across a DST change."""
        return self._wall_clock

    @cached_property
    def _wall_clock(self) -> timedelta:
        # Asked for every handoff generated: worked out once per length.
        return timedelta(hours=self.count * _UNIT_HOURS[self.unit])


@dataclass(frozen=True)
class Layer:
    """One level of a rotation (primary, secondary): its own order of the rotation's members."""

    name: str
    order: tuple[str, ...]


@dataclass(frozen=True)
class EscalationTarget:
    """Whom to page after the last layer: a person, or another rotation's primary."""

    person: str | None = None
    rotation: str | None = None


@dataclass(frozen=True)
class Rotation:
    """A rota: shifts handed off at a local wall-clock time, one person per layer."""

    name: str
    zone: ZoneInfo
    members: tuple[Member, ...]
    layers: tuple[Layer, ...]
    shift: ShiftLength
    handoff_time: time
    handoff_weekday: int | None  # 0 = Monday; None: hand off every shift length from `start`
    start: date
    min_rest: timedelta = timedelta(days=7)
    # The longest a person may stay on call without a break (None: one shift length).
    max_consecutive: timedelta | None = None
    # `rota check` reports a layer whose members' shift counts lie further apart than this.
    max_spread: int = 2
    services: tuple[str, ...] = ()
    escalation: EscalationTarget = field(default_factory=EscalationTarget)
    # The catch-all: pages for every service that no rotation lists (at most one rotation).
    catch_all: bool = False

    @property
    def longest_duty(self) -> timedelta:
        """The longest a person may be on call without a break, on the wall clock."""
        return self.max_consecutive or self.shift.wall_clock()

    def member(self, person: str) -> Member | None:
        """The membership of `person`, if they are in this rotation."""
        return self._members_by_person.get(person)

    @cached_property
    def _members_by_person(self) -> dict[str, Member]:
        # Asked for every candidate of every shift generated: a lookup, not a scan.
        found: dict[str, Member] = {}
        for member in self.members:
            found.setdefault(member.person, member)  # the first, as the scan found it
        return found

    def layer(self, name: str) -> Layer | None:
        """The layer called `name`, if any."""
        return next((layer for layer in self.layers if layer.name == name), None)
