"""Storing overrides and swaps: the rule both doors (the API and the pages) go through.

An override (or the two of a swap) is stored only if it adds no rota violation (a broken rest
gap, someone in two layers at once, someone unavailable), unless forced; a refusal is a
Conflict whose message gives every reason. Swaps pick the two shifts on call at two instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from receiver.rota.documents import violation_view
from receiver.rota.models import OverrideRecord
from receiver.rota.store import active_overrides
from receiver.web.errors import Conflict, InputError
from scheduler.check import Violation, new_violations
from scheduler.handoffs import handoff_at
from scheduler.overrides import Override
from scheduler.rota import Rota

MAX_WINDOW = timedelta(days=400)


@dataclass(frozen=True)
class Cover:
    """One override asked for: `person` covers `layer` during [start, end)."""

    layer: str
    person: str
    start: datetime
    end: datetime


def store_covers(
    session: Session,
    rota: Rota,
    rotation: str,
    covers: list[Cover],
    *,
    force: bool,
    reason: str,
    requested_by: str,
    now: datetime,
    refusal_hint: str,
) -> tuple[list[OverrideRecord], list[Violation]]:
    """Store the overrides together, or none: a Conflict naming every violation they would
    add, unless `force` (then stored, marked forced). `refusal_hint` says how to force."""
    existing = active_overrides(session)
    first_id = max((o.id for o in existing), default=0) + 1
    candidates = [
        Override(first_id + n, rotation, c.layer, c.person, c.start, c.end, now, force, reason)
        for n, c in enumerate(covers)
    ]
    added = new_violations(rota, candidates, existing)
    if added and not force:
        raise Conflict(
            "override refused: " + "; ".join(v.message for v in added) + refusal_hint,
            violations=[violation_view(v) for v in added],
        )
    records = [
        OverrideRecord(
            rotation=rotation,
            layer=c.layer,
            person=c.person,
            start_at=c.start,
            end_at=c.end,
            forced=bool(added),
            reason=reason,
            requested_by=requested_by,
            created_at=now,
        )
        for c in covers
    ]
    session.add_all(records)
    session.flush()
    return records, added


def override_cover(
    rota: Rota, rotation: str, layer: str, person: str, start: datetime, end: datetime
) -> Cover:
    """One override's cover, or InputError naming the field that is wrong."""
    if rota.rotations[rotation].layer(layer) is None:
        raise InputError(f"layer: {rotation} has no layer {layer!r}")
    if person not in rota.people:
        raise InputError(f"person: nobody called {person!r} is in the configuration")
    # Whole seconds, as calendars show them: the API and the feeds then agree to the second.
    start, end = start.replace(microsecond=0), end.replace(microsecond=0)
    if not start < end <= start + MAX_WINDOW:
        raise InputError(
            f"end: must be after start (in whole seconds) and at most {MAX_WINDOW.days} days later"
        )
    first = handoff_at(rota.rotations[rotation], 0)
    if start < first:
        raise InputError(
            f"start: {rotation} begins at its first handoff, {first.isoformat()}; an override "
            "cannot start before it"
        )
    return Cover(layer, person, start, end)


def swap_covers(
    rota: Rota,
    rotation: str,
    picks: list[tuple[str, str, datetime]],
    overrides: list[Override],
) -> list[Cover]:
    """The two covers of a swap of the shifts on call at two (key, layer, instant) picks."""
    picked = []
    for key, layer, at in picks:
        if rota.rotations[rotation].layer(layer) is None:
            raise InputError(f"{key}_layer: {rotation} has no layer {layer!r}")
        shift = rota.on_call(rotation, at, overrides)[layer]
        if shift is None or shift.person is None:
            raise InputError(f"{key}: nobody is on call for {rotation} {layer} at {at.isoformat()}")
        picked.append(shift)
    first, second = picked
    if first.person == second.person:
        raise InputError(f"second: both shifts are {first.person}'s: nothing to swap")
    assert first.person is not None and second.person is not None
    return [
        Cover(first.layer, second.person, first.start, first.end),
        Cover(second.layer, first.person, second.start, second.end),
    ]
