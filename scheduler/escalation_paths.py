"""Escalation paths: whom onwatch would page for an incident opened now, and when.

The plan is `scheduler.escalation`'s (each level after the previous one's acknowledgement
timeout, the chain repeated, every layer at once for some severities); here each step is
resolved to the person the dispatcher would page at the step's instant: a layer's person on
call then (overrides applied), the rotation's escalation person, or the person on call for
the first layer of the escalation rotation. A severity without a timeout (SEV4) pages
nobody: it is queued for the next business day on the primary's clock. Pure: `now` and the
overrides are arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.escalation import ESCALATION_TARGET, escalation_plan, next_business_start
from scheduler.overrides import Override
from scheduler.roster import Rotation
from scheduler.rota import Rota


@dataclass(frozen=True)
class PathPolicy:
    """How a rotation pages one severity: None as the timeout means it pages nobody."""

    ack_timeout: timedelta | None
    repeat: int = 0
    all_at_once: bool = False


@dataclass(frozen=True)
class PathStep:
    """One page of the path: `person` (None: nobody on call) is paged `after` the start."""

    level: int
    loop: int
    target: str  # a layer name, or "escalation"
    after: timedelta
    at: datetime
    via: str  # how the person was found: "ops primary", "escalation person", "db primary"
    person: str | None


@dataclass(frozen=True)
class Queued:
    """A severity that pages nobody now: its page waits for `until` and goes to `target`."""

    until: datetime
    zone: ZoneInfo  # whose business day: the primary's zone (the rotation's if nobody)
    target: str
    person: str | None  # on call for `target` at `until`


@dataclass(frozen=True)
class EscalationPath:
    """The path of one severity on one rotation, as of `now`."""

    rotation: str
    severity: str
    now: datetime
    policy: PathPolicy
    steps: tuple[PathStep, ...] = ()
    queued: Queued | None = None


def paged_person(
    rota: Rota, rotation: str, target: str, at: datetime, overrides: Sequence[Override] = ()
) -> tuple[str | None, str]:
    """Who a page of `target` reaches at `at`, and how they were found (as the dispatcher)."""
    rot = rota.rotation(rotation)
    if target != ESCALATION_TARGET:
        shift = rota.on_call(rotation, at, overrides).get(target)
        return (shift.person if shift else None), f"{rotation} {target}"
    if rot.escalation.person:
        return rot.escalation.person, "escalation person"
    if rot.escalation.rotation:
        other = rota.rotation(rot.escalation.rotation)
        first = other.layers[0].name
        shift = rota.on_call(other.name, at, overrides)[first]
        return (shift.person if shift else None), f"escalation rotation {other.name} {first}"
    return None, "no escalation target"


def business_day_queue(
    rota: Rota, rotation: Rotation, now: datetime, overrides: Sequence[Override] = ()
) -> tuple[str, ZoneInfo, datetime]:
    """Where a page that wakes nobody waits: the first layer, on the clock of its person on
    call at `now` (the rotation's if nobody), until the next business day starts there."""
    first = rotation.layers[0].name
    shift = rota.on_call(rotation.name, now, overrides).get(first)
    person = rota.people.get(shift.person) if shift and shift.person else None
    zone = person.zone if person else rotation.zone
    return first, zone, next_business_start(now, zone)


def escalation_path(
    rota: Rota,
    rotation: str,
    severity: str,
    policy: PathPolicy,
    now: datetime,
    overrides: Sequence[Override] = (),
) -> EscalationPath:
    """The path an incident of `severity` opened at `now` would take, until acknowledged."""
    rot = rota.rotation(rotation)
    if policy.ack_timeout is None:
        first, zone, until = business_day_queue(rota, rot, now, overrides)
        later, _ = paged_person(rota, rotation, first, until, overrides)
        return EscalationPath(
            rotation, severity, now, policy, queued=Queued(until, zone, first, later)
        )
    plan = escalation_plan(
        rot, ack_timeout=policy.ack_timeout, repeat=policy.repeat, all_at_once=policy.all_at_once
    )
    steps = []
    for step in plan:
        at = now + step.after
        person, via = paged_person(rota, rotation, step.target, at, overrides)
        steps.append(PathStep(step.level, step.loop, step.target, step.after, at, via, person))
    return EscalationPath(rotation, severity, now, policy, steps=tuple(steps))
