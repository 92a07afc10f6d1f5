"""Checking a rota against its rules: every violation with its person, dates and rule.

The rules: one person per layer at every instant (a gap is "nobody on call"); nobody on call
twice at once (two layers of a rotation, or two rotations); the rest rules of
`scheduler.rest` (the minimum rest between a person's shifts, across every rotation and
layer they are in, and no stretch on call longer than a rotation's `max_consecutive`),
judged exactly as generation judges them so that every shift generation had to flag is
reported here with the same reason; no override over the covering person's
unavailability; and a layer large enough that its rest gap can be kept at all.

Rest is counted on the wall clock of the rotation whose rule it is: two Monday 09:00
handoffs are a week apart even when the clocks changed in between (167 or 169 hours).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from scheduler.overrides import Override
from scheduler.rest import RestLedger, rule_amount
from scheduler.roster import Rotation
from scheduler.rota import Rota
from scheduler.shifts import Shift, ShiftSource

# The process onwatch implements: "Rotation: minimum 1 week between shifts".
POLICY_MIN_REST = timedelta(days=7)


class Rule(StrEnum):
    REST_GAP = "rest-gap"
    MAX_CONSECUTIVE = "max-consecutive"
    NOBODY_ON_CALL = "nobody-on-call"
    TWO_LAYERS_AT_ONCE = "two-layers-at-once"
    TWO_ROTATIONS_AT_ONCE = "two-rotations-at-once"
    OVERRIDE_OVER_UNAVAILABILITY = "override-over-unavailability"
    LAYER_TOO_SMALL = "layer-too-small"
    UNEVEN_LOAD = "uneven-load"


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


@dataclass(frozen=True)
class PolicyWarning:
    """Not a broken rule of the rota, but a departure from the process onwatch implements."""

    rotation: str
    message: str


def lookback(rota: Rota) -> timedelta:
    """How far before a checked range earlier shifts still bear on the rules inside it."""
    return max(
        (r.min_rest + r.longest_duty + r.shift.wall_clock() for r in rota.rotations.values()),
        default=timedelta(0),
    ) + timedelta(days=1)


def check(
    rota: Rota, start: datetime, end: datetime, overrides: Iterable[Override] = ()
) -> list[Violation]:
    """Every violation in the final shifts (overrides applied) overlapping [start, end).

    Shifts before `start` are read as far back as the rules reach, so a rest or a stretch
    on call that began before the range is judged as generation judged it.
    """
    overrides = list(overrides)
    by_id = {o.id: o for o in overrides}
    early = start - lookback(rota)
    every = [
        shift
        for name in rota.rotations
        for shift in rota.rotation_shifts(name, early, end, overrides)
    ]
    shifts = [shift for shift in every if shift.overlaps(start, end)]
    violations = [v for r in rota.rotations.values() for v in _layer_size(r)]
    violations += [_gap(shift) for shift in shifts if shift.is_gap]
    violations += [v for r in rota.rotations.values() for v in _spread(r, rota, shifts, start, end)]
    by_person: dict[str, list[Shift]] = defaultdict(list)
    for shift in every:
        if shift.person is not None:
            by_person[shift.person].append(shift)
    for person, own in sorted(by_person.items()):
        own.sort(key=lambda s: (s.start, s.end))
        inside = [s for s in own if s.overlaps(start, end)]
        violations += _overlaps(person, inside)
        violations += _rest(rota, person, own, by_id, (start, end))
        violations += _unavailable(rota, person, inside, by_id)
    return sorted(violations, key=lambda v: (v.start or start, v.rule, v.rotation))


def policy_warnings(
    rota: Rota, policy_min_rest: timedelta = POLICY_MIN_REST
) -> list[PolicyWarning]:
    """Rotations whose rest between shifts is shorter than the process asks for."""
    return [
        PolicyWarning(
            rotation=r.name,
            message=(
                f"{r.name}: min_rest {rule_amount(r.min_rest) if r.min_rest else '0 days'} is "
                f"below the process's {rule_amount(policy_min_rest)} between shifts "
                "(docs/incident-process.md, rules the rota keeps)"
            ),
        )
        for r in rota.rotations.values()
        if r.min_rest < policy_min_rest
    ]


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


def _spread(
    rotation: Rotation, rota: Rota, shifts: list[Shift], start: datetime, end: datetime
) -> list[Violation]:
    """Layers whose members' shift counts in [start, end) lie more than the bound apart.

    Compared: the members who belong to the rotation for the whole range and are never
    unavailable in it (a holiday or a late joiner is not unfairness). A shift counts once
    for each person holding some of it.
    """
    found = []
    for layer in rotation.layers:
        held: dict[str, set[int]] = {name: set() for name in layer.order}
        for shift in shifts:
            if (shift.rotation, shift.layer) == (rotation.name, layer.name) and shift.person:
                held.setdefault(shift.person, set()).add(shift.index)
        counts = {
            name: len(held[name])
            for name in layer.order
            if _present(rotation, name, start, end) and rota.people[name].is_available(start, end)
        }
        if len(counts) < 2 or max(counts.values()) - min(counts.values()) <= rotation.max_spread:
            continue
        low, high = min(counts.values()), max(counts.values())
        fewest = ", ".join(name for name, count in counts.items() if count == low)
        most = ", ".join(name for name, count in counts.items() if count == high)
        found.append(
            Violation(
                rule=Rule.UNEVEN_LOAD,
                rotation=rotation.name,
                person=None,
                start=start,
                end=end,
                message=(
                    f"{rotation.name} {layer.name}: uneven load from {start:%Y-%m-%d} to "
                    f"{end:%Y-%m-%d}: {fewest} {low} shifts, {most} {high}; the rotation allows "
                    f"at most {rotation.max_spread} apart (max_spread)"
                ),
            )
        )
    return found


def _present(rotation: Rotation, name: str, start: datetime, end: datetime) -> bool:
    member = rotation.member(name)
    return member is not None and member.is_member(start, end, rotation.zone)


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
            if (first.rotation, first.layer) == (second.rotation, second.layer):
                continue
            same = first.rotation == second.rotation
            what = (
                f"{first.rotation} {first.layer} and {second.layer}"
                if same
                else f"{first.rotation} {first.layer} and {second.rotation} {second.layer}"
            )
            found.append(
                Violation(
                    rule=Rule.TWO_LAYERS_AT_ONCE if same else Rule.TWO_ROTATIONS_AT_ONCE,
                    rotation=first.rotation,
                    person=person,
                    start=max(first.start, second.start),
                    end=min(first.end, second.end),
                    message=f"{person} is on call for {what} at the same time",
                )
            )
    return found


def _stints(own: list[Shift]) -> list[list[Shift]]:
    """A person's shifts grouped into stints of duty on one layer.

    Pieces of one scheduled shift split by someone covering part of it, pieces of one
    override split by a newer one, and an override that extends a shift are one stint:
    covering part of someone's shift never counts as that person resting. Two scheduled
    shifts back to back are two (with no rest between).
    """
    stints: list[list[Shift]] = []
    for shift in own:
        same = next((stint for stint in reversed(stints[-3:]) if _same_duty(stint, shift)), None)
        if same is not None:
            same.append(shift)
        else:
            stints.append([shift])
    stints.sort(key=lambda stint: stint[0].start)
    return stints


def _same_duty(stint: list[Shift], shift: Shift) -> bool:
    last = stint[-1]
    if (last.rotation, last.layer) != (shift.rotation, shift.layer):
        return False
    if shift.override_id is not None and any(p.override_id == shift.override_id for p in stint):
        return True
    if ShiftSource.OVERRIDE not in (last.source, shift.source):
        # Pieces of one scheduled shift, perhaps with someone covering in between.
        return last.index == shift.index
    return shift.start <= last.end  # an override extending or continuing a shift


def _as_one(stint: list[Shift]) -> Shift:
    """A stint as one shift from its first start to its last end (for the rest rules)."""
    first = min(stint, key=lambda s: s.start)
    last = max(stint, key=lambda s: s.end)
    return Shift(
        rotation=first.rotation,
        layer=first.layer,
        index=first.index,
        start=first.start,
        end=last.end,
        person=first.person,
        source=first.source,
        override_id=next((s.override_id for s in stint if s.override_id is not None), None),
    )


def _rest(
    rota: Rota,
    person: str,
    own: list[Shift],
    overrides: dict[int, Override],
    window: tuple[datetime, datetime],
) -> list[Violation]:
    """The rest rules over a person's stints, walked in order as generation walks them."""
    found = []
    ledger = RestLedger()
    for stint in _stints(own):
        duty = _as_one(stint)
        rotation = rota.rotations[duty.rotation]
        if ledger.last_end > duty.start:
            ledger.took(duty, rotation)  # on call twice at once: `_overlaps` says so
            continue
        if not duty.overlaps(*window):
            ledger.took(duty, rotation)  # read only for what it bears on later stints
            continue
        short = ledger.short_rest(duty, rotation)
        if short is not None:
            forced = _forced(stint, [short.before], overrides)
            found.append(
                Violation(
                    rule=Rule.REST_GAP,
                    rotation=duty.rotation,
                    person=person,
                    start=short.before.end,
                    end=duty.start,
                    message=short.message(person) + _cause(forced),
                    forced=bool(forced),
                )
            )
        long = ledger.long_run(duty, rotation)
        if long is not None:
            forced = _forced(stint, [ledger.last] if ledger.last else [], overrides)
            found.append(
                Violation(
                    rule=Rule.MAX_CONSECUTIVE,
                    rotation=duty.rotation,
                    person=person,
                    start=long.start,
                    end=long.end,
                    message=long.message(person) + _cause(forced),
                    forced=bool(forced),
                )
            )
        ledger.took(duty, rotation)
    return found


def _forced(
    stint: list[Shift], others: list[Shift], overrides: dict[int, Override]
) -> list[Override]:
    return [
        overrides[s.override_id]
        for s in [*others, *stint]
        if s.override_id is not None
        and s.override_id in overrides
        and overrides[s.override_id].forced
    ]


def _cause(forced: list[Override]) -> str:
    return f" (forced override {forced[0].id})" if forced else ""


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


def _span(rotation: Rotation) -> str:
    return rule_amount(rotation.min_rest)


def new_violations(
    rota: Rota, candidates: list[Override], existing: list[Override]
) -> list[Violation]:
    """Violations the candidate overrides would add (their people's rest, layers, availability)."""
    reach = max(r.min_rest + r.longest_duty for r in rota.rotations.values())
    start = min(c.start for c in candidates) - reach
    end = max(c.end for c in candidates) + reach
    before = {(v.rule, v.person, v.start, v.end) for v in check(rota, start, end, existing)}
    after = check(rota, start, end, [*existing, *candidates])
    return [v for v in after if (v.rule, v.person, v.start, v.end) not in before]
