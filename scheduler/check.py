"""Checking a rota against its rules: every violation with its person, dates and rule.

The rules: one person per layer at every instant (a gap is "nobody on call"); nobody on two
layers of a rotation at once; the minimum rest between a person's shifts, across every
rotation and layer they are in (counted on the wall clock of the stricter rotation's zone);
no override over the covering person's unavailability; and a layer large enough that its
rest gap can be kept at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from scheduler.handoffs import after_wall_clock
from scheduler.overrides import Override
from scheduler.roster import Rotation
from scheduler.rota import Rota
from scheduler.shifts import Shift, ShiftSource


class Rule(StrEnum):
    REST_GAP = "rest-gap"
    NOBODY_ON_CALL = "nobody-on-call"
    TWO_LAYERS_AT_ONCE = "two-layers-at-once"
    OVERRIDE_OVER_UNAVAILABILITY = "override-over-unavailability"
    LAYER_TOO_SMALL = "layer-too-small"


@dataclass(frozen=True)
class Violation:
    """One broken rule, said so that a person can act on it."""

    rule: Rule
    rotation: str
    person: str | None
    start: datetime | None
    end: datetime | None
    message: str
    forced: bool = False  # an override accepted with `force`, against the rule


def check(
    rota: Rota, start: datetime, end: datetime, overrides: Iterable[Override] = ()
) -> list[Violation]:
    """Every violation in the final shifts (overrides applied) overlapping [start, end)."""
    overrides = list(overrides)
    by_id = {o.id: o for o in overrides}
    shifts = [
        shift
        for name in rota.rotations
        for shift in rota.rotation_shifts(name, start, end, overrides)
    ]
    violations = [v for r in rota.rotations.values() for v in _layer_size(r)]
    violations += [_gap(shift) for shift in shifts if shift.is_gap]
    by_person: dict[str, list[Shift]] = defaultdict(list)
    for shift in shifts:
        if shift.person is not None:
            by_person[shift.person].append(shift)
    for person, own in sorted(by_person.items()):
        own.sort(key=lambda s: (s.start, s.end))
        violations += _overlaps(person, own)
        violations += _rest(rota, person, _stints(own), by_id)
        violations += _unavailable(rota, person, own, by_id)
    return sorted(violations, key=lambda v: (v.start or start, v.rule, v.rotation))


def _layer_size(rotation: Rotation) -> list[Violation]:
    needed = 1 + -(-rotation.min_rest // rotation.shift.wall_clock())  # ceil division
    return [
        Violation(
            rule=Rule.LAYER_TOO_SMALL,
            rotation=rotation.name,
            person=None,
            start=None,
            end=None,
            message=(
                f"{rotation.name} {layer.name}: {len(layer.order)} members with "
                f"{rotation.shift} shifts cannot each rest {_span(rotation)} between shifts; "
                f"it needs at least {needed}"
            ),
        )
        for layer in rotation.layers
        if len(layer.order) < needed
    ]


def _gap(shift: Shift) -> Violation:
    return Violation(
        rule=Rule.NOBODY_ON_CALL,
        rotation=shift.rotation,
        person=None,
        start=shift.start,
        end=shift.end,
        message=f"nobody on call for {shift.rotation} {shift.layer}: {shift.note}",
    )


def _overlaps(person: str, own: list[Shift]) -> list[Violation]:
    found = []
    for i, first in enumerate(own):
        for second in own[i + 1 :]:
            if second.start >= first.end:
                break
            if first.rotation == second.rotation and first.layer != second.layer:
                found.append(
                    Violation(
                        rule=Rule.TWO_LAYERS_AT_ONCE,
                        rotation=first.rotation,
                        person=person,
                        start=max(first.start, second.start),
                        end=min(first.end, second.end),
                        message=(
                            f"{person} is on call for {first.rotation} {first.layer} and "
                            f"{second.layer} at the same time"
                        ),
                    )
                )
    return found


def _stints(own: list[Shift]) -> list[list[Shift]]:
    """A person's shifts grouped into stints of continuous duty on one layer.

    Pieces of one scheduled shift split by an override, and an override that extends a
    shift, are one stint; two scheduled shifts back to back are two (with no rest between).
    A person's stints are ordered by start, so `last` is the stint's latest piece.
    """
    stints: list[list[Shift]] = []
    for shift in own:
        last = stints[-1][-1] if stints else None
        if last is not None and _same_duty(last, shift):
            stints[-1].append(shift)
        else:
            stints.append([shift])
    return stints


def _same_duty(last: Shift, shift: Shift) -> bool:
    if (last.rotation, last.layer) != (shift.rotation, shift.layer):
        return False
    if ShiftSource.OVERRIDE not in (last.source, shift.source):
        # Pieces of one scheduled shift, perhaps with someone covering in between.
        return last.index == shift.index
    return shift.start <= last.end  # an override extending or continuing a shift


def _rest(
    rota: Rota, person: str, stints: list[list[Shift]], overrides: dict[int, Override]
) -> list[Violation]:
    found = []
    for before, after in zip(stints, stints[1:], strict=False):
        ended = max(before, key=lambda s: s.end)
        begins = min(after, key=lambda s: s.start)
        rotations = (rota.rotations[ended.rotation], rota.rotations[begins.rotation])
        strict = max(rotations, key=lambda r: r.min_rest)
        if after_wall_clock(ended.end, strict.min_rest, strict.zone) <= begins.start:
            continue
        forced = [
            overrides[s.override_id]
            for s in (ended, begins)
            if s.override_id is not None and overrides[s.override_id].forced
        ]
        rested = begins.start - ended.end
        cause = f" (forced override {forced[0].id})" if forced else ""
        found.append(
            Violation(
                rule=Rule.REST_GAP,
                rotation=begins.rotation,
                person=person,
                start=ended.end,
                end=begins.start,
                message=(
                    f"{person} rests {_hours(rested)} between {ended.rotation} {ended.layer} "
                    f"(ends {ended.end:%Y-%m-%d %H:%M} UTC) and {begins.rotation} {begins.layer} "
                    f"(starts {begins.start:%Y-%m-%d %H:%M} UTC); {strict.name} asks for "
                    f"{_span(strict)}{cause}"
                ),
                forced=bool(forced),
            )
        )
    return found


def _unavailable(
    rota: Rota, person: str, own: list[Shift], overrides: dict[int, Override]
) -> list[Violation]:
    found = []
    for shift in own:
        if shift.source != ShiftSource.OVERRIDE:
            continue
        blocked = rota.people[person].unavailability_during(shift.start, shift.end)
        if blocked is None:
            continue
        override = overrides[shift.override_id] if shift.override_id is not None else None
        found.append(
            Violation(
                rule=Rule.OVERRIDE_OVER_UNAVAILABILITY,
                rotation=shift.rotation,
                person=person,
                start=shift.start,
                end=shift.end,
                message=(
                    f"override {shift.override_id} puts {person} on call for {shift.rotation} "
                    f"{shift.layer} while unavailable {blocked.first_day}..{blocked.last_day}"
                    + (f" ({blocked.reason})" if blocked.reason else "")
                ),
                forced=bool(override and override.forced),
            )
        )
    return found


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def _span(rotation: Rotation) -> str:
    hours = rotation.min_rest.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours % 24 == 0 else f"{hours:g} hours"
