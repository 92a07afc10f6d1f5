"""Turning rotations into shifts: member order, rest gaps, availability and fairness.

All rotations are generated together, in the order their shifts start, because a person's
rest gap counts across every rotation and layer they are in. For each shift, the layer's
queue is walked from the front:

- a member who is not in the rotation on those dates, is unavailable, or is already on call
  somewhere at that time is skipped (hard rules);
- the first remaining member who keeps the rest rules (`scheduler.rest`: the minimum rest
  since their shifts anywhere, and no stretch on call longer than `max_consecutive`)
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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from scheduler.handoffs import Slot, handoff_at, slots
from scheduler.rest import RestLedger
from scheduler.roster import Person, Rotation
from scheduler.shifts import Shift


@dataclass
class _Queue:
    """A layer's members, least recently on call first."""

    order: list[str] = field(default_factory=list)

    def took(self, person: str) -> None:
        self.order.remove(person)
        self.order.append(person)


# Slots are drawn from each layer without an end; generation stops pulling at its `until`.
_NO_END = datetime(9000, 1, 1, tzinfo=UTC)


def _layer_slots(
    rotation: Rotation, layer_number: int
) -> Iterator[tuple[datetime, str, int, Slot]]:
    for slot in slots(rotation, handoff_at(rotation, 0), _NO_END):
        yield (slot.start, rotation.name, layer_number, slot)


class Generation:
    """Generation that can be taken further: `extend(until)` continues where it stopped,
    with the queues and rest ledgers as they were, so a rota asked about a later instant
    generates only the shifts after the ones it has (never again from each rotation's start).
    """

    def __init__(self, rotations: Sequence[Rotation], people: Mapping[str, Person]) -> None:
        self._by_name = {rotation.name: rotation for rotation in rotations}
        self._people = people
        self._queues = {
            (rotation.name, layer.name): _Queue(list(layer.order))
            for rotation in rotations
            for layer in rotation.layers
        }
        self._ledgers: dict[str, RestLedger] = {name: RestLedger() for name in people}
        self.shifts: dict[tuple[str, str], list[Shift]] = {key: [] for key in self._queues}
        self._slots = heapq.merge(
            *(
                _layer_slots(rotation, number)
                for rotation in rotations
                for number in range(len(rotation.layers))
            )
        )
        self._next: tuple[datetime, str, int, Slot] | None = next(self._slots, None)

    def extend(self, until: datetime) -> None:
        """Generate every shift that starts before `until` (and has not been yet)."""
        while self._next is not None and self._next[0] < until:
            _start, rotation_name, layer_number, slot = self._next
            rotation = self._by_name[rotation_name]
            layer = rotation.layers[layer_number]
            key = (rotation.name, layer.name)
            shift = _assign(
                rotation, layer.name, slot, self._queues[key], self._people, self._ledgers
            )
            self.shifts[key].append(shift)
            if shift.person is not None:
                self._ledgers[shift.person].took(shift, rotation)
            self._next = next(self._slots, None)


def generate(
    rotations: Sequence[Rotation], people: Mapping[str, Person], until: datetime
) -> dict[tuple[str, str], list[Shift]]:
    """Every shift of every rotation layer, from each rotation's first handoff to `until`.

    Keyed by (rotation name, layer name); each list is in time order and covers the span
    without holes (a gap is a shift with `person=None`).
    """
    generation = Generation(rotations, people)
    generation.extend(until)
    return generation.shifts


def _assign(
    rotation: Rotation,
    layer: str,
    slot: Slot,
    queue: _Queue,
    people: Mapping[str, Person],
    ledgers: Mapping[str, RestLedger],
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
        ledger = ledgers[name]
        if ledger.last_end > slot.start:
            reasons.append(f"{name}: already on call then ({_where(ledger.last)})")
            continue
        candidate = _shift(rotation, layer, slot, name, note="")
        broken = ledger.short_rest(candidate, rotation) or ledger.long_run(candidate, rotation)
        if broken is not None:
            reasons.append(broken.message(name))
            if fallback is None or ledgers[fallback].last_end > ledger.last_end:
                fallback = name
            continue
        queue.took(name)
        return replace(candidate, note="; ".join(reasons)) if reasons else candidate
    if fallback is not None:
        queue.took(fallback)
        note = (
            f"no member could keep the rotation's rest rules ({'; '.join(reasons)}); "
            f"{fallback} rested longest"
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
