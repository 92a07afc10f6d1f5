"""The rota: the generated schedule of every rotation, with overrides, asked about by time.

`Rota` is pure (no I/O, no clock: every question takes its instants) and memoises the
generated schedule, extending it (from where it stopped) when asked about later instants.
Overrides are passed in with each question because they live in the store and change while
the rota does not.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from scheduler.generation import Generation
from scheduler.overrides import Override, apply_overrides
from scheduler.roster import Person, Rotation
from scheduler.shifts import Shift

# Generate this far past the latest instant asked about, so that "now" questions hit the memo.
LOOKAHEAD = timedelta(days=400)


class UnknownRotation(KeyError):
    """No rotation has that name."""


class Rota:
    """Every rotation's shifts, generated once and answered from memory."""

    def __init__(
        self,
        rotations: Sequence[Rotation],
        people: Mapping[str, Person],
        lookahead: timedelta = LOOKAHEAD,
    ) -> None:
        self.rotations = {rotation.name: rotation for rotation in rotations}
        self.people = dict(people)
        self.lookahead = lookahead
        self._lock = threading.Lock()
        self._until: datetime | None = None
        self._rotation_list = list(rotations)
        self._generation = Generation(self._rotation_list, self.people)
        self._schedule = self._generation.shifts  # grows in place as generation goes on
        self._starts: dict[tuple[str, str], list[datetime]] = {key: [] for key in self._schedule}

    def rotation(self, name: str) -> Rotation:
        """The rotation called `name`, or UnknownRotation."""
        try:
            return self.rotations[name]
        except KeyError:
            raise UnknownRotation(name) from None

    def rotation_for_service(self, service: str) -> Rotation | None:
        """The rotation that covers `service` (the one an incident of it pages), if any: the
        one that lists it, else the catch-all rotation (when one is configured)."""
        listed = next((r for r in self.rotations.values() if service in r.services), None)
        return listed or self.catch_all()

    def catch_all(self) -> Rotation | None:
        """The rotation that takes every service no rotation lists, if there is one."""
        return next((r for r in self.rotations.values() if r.catch_all), None)

    def schedule(self, rotation: str, layer: str, until: datetime) -> list[Shift]:
        """The generated shifts of one layer (no overrides), at least up to `until`."""
        return self._generated(rotation, layer, until)[0]

    def _generated(
        self, rotation: str, layer: str, until: datetime
    ) -> tuple[list[Shift], list[datetime]]:
        # A layer's shifts and their starts (for bisect), taken together under the lock.
        self.rotation(rotation)
        with self._lock:
            if self._until is None or self._until < until:
                self._until = until + self.lookahead
                self._generation.extend(self._until)
                for key, shifts in self._schedule.items():
                    starts = self._starts[key]
                    starts.extend(shift.start for shift in shifts[len(starts) :])
            return self._schedule[(rotation, layer)], self._starts[(rotation, layer)]

    @property
    def generated_until(self) -> datetime | None:
        """Every shift starting before this instant is generated (None: nothing yet)."""
        return self._until

    def warm_up(self, until: datetime) -> None:
        """Generate every shift up to `until` now, so that the first question about a far
        instant is answered from memory.

        The state of generation at an instant (queues, rest ledgers) depends on every shift
        before it, so a far answer needs them all; a server calls this in a background thread
        as it starts (`receiver.rota.warm_up`). The warm-up generates on its own, without the
        lock, and swaps its shifts in at the end (generation is deterministic, so they are the
        ones the rota has, and more): whom to page now is never kept waiting by it.
        """
        with self._lock:
            if self._until is not None and self._until >= until:
                return
        warm = Generation(self._rotation_list, self.people)
        warm.extend(until)
        starts = {key: [shift.start for shift in shifts] for key, shifts in warm.shifts.items()}
        with self._lock:
            if self._until is None or self._until < until:
                self._generation, self._schedule, self._starts = warm, warm.shifts, starts
                self._until = until

    def _window(self, rotation: str, layer: str, start: datetime, end: datetime) -> list[Shift]:
        shifts, starts = self._generated(rotation, layer, end)
        first = max(bisect_right(starts, start) - 1, 0)
        last = bisect_right(starts, end)
        return [shift for shift in shifts[first:last] if shift.overlaps(start, end)]

    def layer_shifts(
        self,
        rotation: str,
        layer: str,
        start: datetime,
        end: datetime,
        overrides: Iterable[Override] = (),
    ) -> list[Shift]:
        """The final shifts of one layer overlapping [start, end), overrides applied.

        Each shift is whole (its true start and end, and so its calendar UID), wherever the
        window cuts it: the window is widened to every override it touches before the
        overrides are laid on the schedule.
        """
        mine = [o for o in overrides if o.rotation == rotation and o.layer == layer]
        wide_start, wide_end = start, end
        while True:
            touching = [o for o in mine if o.start < wide_end and wide_start < o.end]
            widened = (
                min([wide_start, *(o.start for o in touching)]),
                max([wide_end, *(o.end for o in touching)]),
            )
            if widened == (wide_start, wide_end):
                break
            wide_start, wide_end = widened
        return [
            shift
            for shift in apply_overrides(self._window(rotation, layer, wide_start, wide_end), mine)
            if shift.overlaps(start, end)
        ]

    def rotation_shifts(
        self, rotation: str, start: datetime, end: datetime, overrides: Iterable[Override] = ()
    ) -> list[Shift]:
        """Every layer's final shifts of one rotation overlapping [start, end), by start."""
        overrides = list(overrides)
        shifts = [
            shift
            for layer in self.rotation(rotation).layers
            for shift in self.layer_shifts(rotation, layer.name, start, end, overrides)
        ]
        return sorted(shifts, key=lambda shift: (shift.start, shift.layer))

    def rotations_of(self, person: str, overrides: Iterable[Override] = ()) -> list[str]:
        """The rotations `person` can be on call for: as a member, or by an override."""
        covering = {o.rotation for o in overrides if o.person == person}
        return [
            name
            for name, rotation in self.rotations.items()
            if name in covering or rotation.member(person) is not None
        ]

    def person_shifts(
        self, person: str, start: datetime, end: datetime, overrides: Iterable[Override] = ()
    ) -> list[Shift]:
        """One person's final shifts across every rotation, overrides applied, by start."""
        overrides = list(overrides)
        shifts = [
            shift
            for name in self.rotations_of(person, overrides)
            for shift in self.rotation_shifts(name, start, end, overrides)
            if shift.person == person
        ]
        return sorted(shifts, key=lambda shift: (shift.start, shift.rotation, shift.layer))

    def on_call(
        self, rotation: str, at: datetime, overrides: Iterable[Override] = ()
    ) -> dict[str, Shift | None]:
        """Who is on call for each layer of `rotation` at `at` (None before it starts)."""
        overrides = [o for o in overrides if o.rotation == rotation]
        answer: dict[str, Shift | None] = {}
        for layer in self.rotation(rotation).layers:
            mine = [o for o in overrides if o.layer == layer.name]
            window = (at, at + timedelta(microseconds=1))
            shifts = self.layer_shifts(rotation, layer.name, *window, mine)
            answer[layer.name] = next((s for s in shifts if s.start <= at < s.end), None)
        return answer
