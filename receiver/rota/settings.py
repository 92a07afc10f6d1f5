"""The `people:`, `rotations:` and `calendar:` sections of the configuration file.

Validated into typed models, then turned into the rota's domain values (`scheduler.roster`).
Cross-references (a member who is not a person, a layer order that is not the members, two
rotations covering one service, two catch-all rotations) are
checked once the sections are valid, and reported with
their key paths like every other configuration error.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator

from receiver.config.base import SettingsModel, clock_from_yaml, known_zone
from receiver.config.interpolation import blank_is_unset
from receiver.paging.settings import PagingSettings
from scheduler.roster import (
    EscalationTarget,
    Layer,
    Member,
    Person,
    Rotation,
    ShiftLength,
    ShiftUnit,
    Unavailability,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DURATION = re.compile(r"^\s*(\d+)\s*(h|d|w)\s*$")
_UNITS = {"h": ShiftUnit.HOURS, "d": ShiftUnit.DAYS, "w": ShiftUnit.WEEKS}


def parse_length(text: str) -> ShiftLength:
    """`12h`, `1d`, `2w` as a shift length; ValueError naming the expected form otherwise."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f'expected a length such as "12h", "1d" or "1w", got "{text}"')
    return ShiftLength(int(match.group(1)), _UNITS[match.group(2)])


def parse_rest(text: str) -> timedelta:
    """`7d`, `36h`, `0d` as a rest between shifts (zero is a valid rest, unlike a length)."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f'expected a rest such as "7d", "36h" or "0d", got "{text}"')
    return ShiftLength(int(match.group(1)), _UNITS[match.group(2)]).wall_clock()


class NightWindow(SettingsModel):
    start: time = time(22, 0)
    end: time = time(7, 0)

    clocks_as_text = field_validator("start", "end", mode="before")(clock_from_yaml)

    @model_validator(mode="after")
    def _has_a_length(self) -> NightWindow:
        if self.start == self.end:
            raise ValueError(
                f"start and end are both {self.start:%H:%M}: a night window needs a length "
                '(e.g. start "22:00", end "07:00")'
            )
        return self


class UnavailabilitySettings(SettingsModel):
    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> UnavailabilitySettings:
        if self.last_day < self.first_day:
            raise ValueError(f"`to` ({self.last_day}) is before `from` ({self.first_day})")
        return self


class PersonSettings(SettingsModel):
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    time_zone: str
    pagerduty_user_id: str = ""
    slack_user_id: str = ""  # else looked up once by e-mail (users.lookupByEmail) and cached
    night: NightWindow = NightWindow()
    unavailable: list[UnavailabilitySettings] = []

    zone_is_known = field_validator("time_zone")(known_zone)

    def to_person(self) -> Person:
        """The rota's value for this person."""
        return Person(
            name=self.name,
            email=self.email,
            zone=ZoneInfo(self.time_zone),
            pagerduty_user_id=self.pagerduty_user_id,
            night_start=self.night.start,
            night_end=self.night.end,
            unavailable=tuple(
                Unavailability(u.first_day, u.last_day, u.reason) for u in self.unavailable
            ),
        )


class MemberSettings(SettingsModel):
    person: str
    joins: date | None = None
    leaves: date | None = None


class HandoffSettings(SettingsModel):
    time: dt.time = dt.time(9, 0)
    weekday: Literal[WEEKDAYS] | None = None  # type: ignore[valid-type]

    clock_as_text = field_validator("time", mode="before")(clock_from_yaml)


class LayerSettings(SettingsModel):
    name: str = Field(min_length=1)
    order: list[str] | None = None  # default: the rotation's member order


class EscalationSettings(SettingsModel):
    person: str | None = None
    rotation: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> EscalationSettings:
        if (self.person is None) == (self.rotation is None):
            raise ValueError("give exactly one of `person` or `rotation`")
        return self


class RotationSettings(SettingsModel):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    time_zone: str
    members: list[str | MemberSettings] = Field(min_length=1)
    layers: list[LayerSettings] = [LayerSettings(name="primary")]
    shift_length: str = "1w"
    handoff: HandoffSettings = HandoffSettings()
    start: date
    min_rest: str = "7d"  # 0d allowed: back-to-back shifts then need only max_consecutive
    # The longest a person may be on call without a break (default: one shift length).
    max_consecutive: str | None = None
    # `rota check` reports a layer whose members' shift counts lie further apart than this.
    max_spread: int = Field(default=2, ge=0)
    services: list[str] = []
    # The catch-all: this rotation is paged for every service no rotation lists in its
    # `services` (alerts without a service label included). At most one rotation.
    catch_all: bool = False
    escalation: EscalationSettings | None = None
    paging: PagingSettings = PagingSettings()
    # Notification targets (names from `notifications.targets`) of the team on this rotation:
    # its status updates, reminders, handoff briefings and monthly report go there.
    notify: list[str] = []

    zone_is_known = field_validator("time_zone")(known_zone)

    @field_validator("shift_length", "max_consecutive")
    @classmethod
    def _length(cls, text: str | None) -> str | None:
        if text is not None:
            parse_length(text)
        return text

    @field_validator("min_rest")
    @classmethod
    def _rest(cls, text: str) -> str:
        parse_rest(text)
        return text

    @model_validator(mode="after")
    def _duty_holds_a_shift(self) -> RotationSettings:
        if self.max_consecutive is None:
            return self
        longest, shift = parse_length(self.max_consecutive), parse_length(self.shift_length)
        if longest.wall_clock() < shift.wall_clock():
            raise ValueError(
                f"max_consecutive ({self.max_consecutive}) is shorter than one shift "
                f"({self.shift_length})"
            )
        return self

    def member_list(self) -> list[MemberSettings]:
        """Members in order, plain names expanded."""
        return [
            m if isinstance(m, MemberSettings) else MemberSettings(person=m) for m in self.members
        ]

    def to_rotation(self) -> Rotation:
        """The rota's value for this rotation."""
        members = self.member_list()
        names = tuple(member.person for member in members)
        return Rotation(
            name=self.name,
            zone=ZoneInfo(self.time_zone),
            members=tuple(Member(m.person, m.joins, m.leaves) for m in members),
            layers=tuple(Layer(layer.name, tuple(layer.order or names)) for layer in self.layers),
            shift=parse_length(self.shift_length),
            handoff_time=self.handoff.time,
            handoff_weekday=(
                WEEKDAYS.index(self.handoff.weekday) if self.handoff.weekday else None
            ),
            start=self.start,
            min_rest=parse_rest(self.min_rest),
            max_consecutive=(
                parse_length(self.max_consecutive).wall_clock() if self.max_consecutive else None
            ),
            max_spread=self.max_spread,
            services=tuple(self.services),
            catch_all=self.catch_all,
            escalation=EscalationTarget(
                person=self.escalation.person if self.escalation else None,
                rotation=self.escalation.rotation if self.escalation else None,
            ),
        )


class CalendarSettings(SettingsModel):
    """ICS feeds: each feed's URL token is derived from `secret` (rotate it to revoke all)."""

    secret: SecretStr | None = None
    days_back: int = Field(default=30, ge=0)
    days_ahead: int = Field(default=365, ge=1)
    refresh_minutes: int = Field(default=60, ge=5)

    blanks_are_unset = field_validator("secret", mode="before")(blank_is_unset)

    @property
    def window(self) -> tuple[timedelta, timedelta]:
        """How far back and ahead a feed reaches."""
        return timedelta(days=self.days_back), timedelta(days=self.days_ahead)


def rota_problems(people: list[PersonSettings], rotations: list[RotationSettings]) -> list[str]:
    """Cross-reference errors between people and rotations, each as `key.path: problem`."""
    problems: list[str] = []
    names: set[str] = set()
    for i, person in enumerate(people):
        if person.name in names:
            problems.append(f'people[{i}].name: "{person.name}" is used twice')
        names.add(person.name)
    rotation_names: set[str] = set()
    covered: dict[str, str] = {}
    catch_all: str | None = None
    for r, rotation in enumerate(rotations):
        where = f"rotations[{r}]"
        if rotation.name in rotation_names:
            problems.append(f'{where}.name: "{rotation.name}" is used twice')
        rotation_names.add(rotation.name)
        members = [member.person for member in rotation.member_list()]
        for m, member in enumerate(members):
            if member not in names:
                problems.append(f'{where}.members[{m}]: unknown person "{member}"')
        if len(set(members)) != len(members):
            problems.append(f"{where}.members: a person is listed twice")
        layer_names = [layer.name for layer in rotation.layers]
        if len(set(layer_names)) != len(layer_names):
            problems.append(f"{where}.layers: a layer name is used twice")
        for k, layer in enumerate(rotation.layers):
            if layer.order is not None and sorted(layer.order) != sorted(members):
                problems.append(
                    f"{where}.layers[{k}].order: must list each member exactly once "
                    f"({', '.join(members)})"
                )
        for s, service in enumerate(rotation.services):
            if service in covered:
                problems.append(
                    f'{where}.services[{s}]: "{service}" is already covered by rotation '
                    f'"{covered[service]}"'
                )
            covered[service] = rotation.name
        if rotation.catch_all:
            if catch_all is not None:
                problems.append(
                    f'{where}.catch_all: rotations "{catch_all}" and "{rotation.name}" are both '
                    "the catch-all; at most one rotation may be"
                )
            else:
                catch_all = rotation.name
    for r, rotation in enumerate(rotations):
        target = rotation.escalation
        if target is None:
            continue
        if target.person is not None and target.person not in names:
            problems.append(f'rotations[{r}].escalation.person: unknown person "{target.person}"')
        if target.rotation is not None and (
            target.rotation not in rotation_names or target.rotation == rotation.name
        ):
            problems.append(
                f'rotations[{r}].escalation.rotation: "{target.rotation}" is not another rotation'
            )
    return problems
