"""Turning rotations into shifts: member order, rest gaps, availability and fairness.

All rotations are generated together, in the order their shifts start, because a person's
rest gap counts across every rotation and layer they are in. For each shift, the layer's
queue is walked from the front:

- a member who is not in the rotation on those dates, is unavailable, or is already on call
  somewhere at that time is skipped (hard rules);
- the first remaining member who has had the minimum rest since their last shift anywhere
  takes the shift and goes to the back of the queue;
- a skipped member keeps their place at the front, so they take the next shift they can:
  over time everyone carries the same load (least-recently-on-call first, as LinkedIn's
  oncall does);
- when nobody can keep the rest gap, the best-rested available member takes the shift and the
  shift says so (`rest_broken`, with the reason) rather than breaking it silently;
- when nobody at all can take it, the shift is a gap (`person=None`) with the reason.

The result depends only on the rotations, the people and the instants before each shift,
so generating further ahead never changes a shift already generated.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from scheduler.handoffs import Slot, after_wall_clock, handoff_at, slots
from scheduler.roster import Person, Rotation
from scheduler.shifts import Shift

_LONG_AGO = datetime.min.replace(tzinfo=UTC)


@dataclass
class _Rest:
    """What generation remembers about one person: their latest shift and its rest rule."""

    last_end: datetime = _LONG_AGO
    rested_at: datetime = _LONG_AGO  # last_end plus the rest that rotation asks for
    last: Shift | None = None

    def rested_for(self, start: datetime, rotation: Rotation) -> bool:
        if self.last is None:
            return True
        # Both rotations' rests must be kept: the one asking and the one just served.
        ready = after_wall_clock(self.last_end, rotation.min_rest, rotation.zone)
        return ready <= start and self.rested_at <= start


@dataclass
class _Queue:
    """A layer's members, least recently on call first."""

    order: list[str] = field(default_factory=list)

    def took(self, person: str) -> None:
        self.order.remove(person)
        self.order.append(person)


def _layer_slots(
    rotation: Rotation, layer_number: int, until: datetime
) -> Iterator[tuple[datetime, str, int, Slot]]:
    for slot in slots(rotation, handoff_at(rotation, 0), until):
        yield (slot.start, rotation.name, layer_number, slot)


def generate(
    rotations: Sequence[Rotation], people: Mapping[str, Person], until: datetime
) -> dict[tuple[str, str], list[Shift]]:
    """Every shift of every rotation layer, from each rotation's first handoff to `until`.

    Keyed by (rotation name, layer name); each list is in time order and covers the span
    without holes (a gap is a shift with `person=None`).
    """
    by_name = {rotation.name: rotation for rotation in rotations}
    queues = {
        (rotation.name, layer.name): _Queue(list(layer.order))
        for rotation in rotations
        for layer in rotation.layers
    }
    rest: dict[str, _Rest] = {name: _Rest() for name in people}
    result: dict[tuple[str, str], list[Shift]] = {key: [] for key in queues}

    streams = [
        _layer_slots(rotation, number, until)
        for rotation in rotations
        for number in range(len(rotation.layers))
    ]
    for _start, rotation_name, layer_number, slot in heapq.merge(*streams):
        rotation = by_name[rotation_name]
        layer = rotation.layers[layer_number]
        shift = _assign(
            rotation, layer.name, slot, queues[(rotation.name, layer.name)], people, rest
        )
        result[(rotation.name, layer.name)].append(shift)
        if shift.person is not None:
            state = rest[shift.person]
            state.last_end = max(state.last_end, shift.end)
            state.rested_at = max(
                state.rested_at, after_wall_clock(shift.end, rotation.min_rest, rotation.zone)
            )
            state.last = shift
    return result


def _assign(
    rotation: Rotation,
    layer: str,
    slot: Slot,
    queue: _Queue,
    people: Mapping[str, Person],
    rest: Mapping[str, _Rest],
) -> Shift:
    reasons: list[str] = []
    fallback: str | None = None
    for name in queue.order:
        member = rotation.member(name)
        person = people[name]
        if member is None or not member.is_member(slot.start, slot.end, rotation.zone):
            reasons.append(f"{name}: not a member on these dates")
            continue
        blocked = person.unavailability_during(slot.start, slot.end)
        if blocked is not None:
            why = f" ({blocked.reason})" if blocked.reason else ""
            reasons.append(f"{name}: unavailable {blocked.first_day}..{blocked.last_day}{why}")
            continue
        state = rest[name]
        if state.last_end > slot.start:
            reasons.append(f"{name}: already on call then ({_where(state.last)})")
            continue
        if not state.rested_for(slot.start, rotation):
            reasons.append(f"{name}: rest since {_where(state.last)} too short")
            if fallback is None or rest[fallback].last_end > state.last_end:
                fallback = name
            continue
        queue.took(name)
        return _shift(rotation, layer, slot, name, note="; ".join(reasons))
    if fallback is not None:
        queue.took(fallback)
        note = (
            f"no member could keep the {_days(rotation.min_rest)} rest gap "
            f"({'; '.join(reasons)}); {fallback} rested longest"
        )
        return _shift(rotation, layer, slot, fallback, note=note, rest_broken=True)
    return _shift(
        rotation, layer, slot, None, note="nobody can take this shift: " + "; ".join(reasons)
    )


def _shift(
    rotation: Rotation,
    layer: str,
    slot: Slot,
    person: str | None,
    *,
    note: str,
    rest_broken: bool = False,
) -> Shift:
    return Shift(
        rotation=rotation.name,
        layer=layer,
        index=slot.index,
        start=slot.start,
        end=slot.end,
        person=person,
        note=note,
        rest_broken=rest_broken,
    )


def _where(shift: Shift | None) -> str:
    if shift is None:
        return "nothing"
    return f"{shift.rotation} {shift.layer} ending {shift.end:%Y-%m-%d %H:%M} UTC"


def _days(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:g}-day" if hours % 24 == 0 else f"{hours:g}-hour"
