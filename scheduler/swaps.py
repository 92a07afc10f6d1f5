"""Swaps: two people exchange shifts, and which exchanges the rota's rules allow.

A swap is two overrides made together: each person covers the shift the other had. It is
allowed when those overrides add no violation (`scheduler.check.new_violations`): nobody
rests less than their rotations ask, nobody stays on call longer than `max_consecutive`,
nobody covers while unavailable or on two layers at once. The finder tries every shift of
the same layer within a window and keeps the allowed ones, so a refused swap can say what
would be accepted instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduler.check import Violation, new_violations
from scheduler.overrides import Override
from scheduler.rota import Rota
from scheduler.shifts import Shift


@dataclass(frozen=True)
class Swap:
    """`shift` and `other` change hands: `shift`'s person takes `other` and the reverse."""

    shift: Shift
    other: Shift

    def overrides(
        self, *, first_id: int, now: datetime, reason: str = "", forced: bool = False
    ) -> list[Override]:
        """The two overrides that make the swap, numbered from `first_id`."""
        assert self.shift.person is not None and self.other.person is not None
        return [
            Override(
                first_id, self.shift.rotation, self.shift.layer, self.other.person,
                self.shift.start, self.shift.end, now, forced, reason,
            ),
            Override(
                first_id + 1, self.other.rotation, self.other.layer, self.shift.person,
                self.other.start, self.other.end, now, forced, reason,
            ),
        ]  # fmt: skip


@dataclass(frozen=True)
class SwapSearch:
    """What the finder tried for one shift: the swaps allowed, and how many it refused."""

    shift: Shift
    start: datetime  # the window the other shifts were taken from
    end: datetime
    allowed: list[Swap]
    refused: int


def swap_violations(
    rota: Rota, swap: Swap, existing: Sequence[Override], *, now: datetime
) -> list[Violation]:
    """What the swap would break, given the overrides already in force (none: allowed)."""
    first_id = max((o.id for o in existing), default=0) + 1
    return new_violations(rota, swap.overrides(first_id=first_id, now=now), list(existing))


def find_swaps(
    rota: Rota,
    shift: Shift,
    existing: Sequence[Override],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
) -> SwapSearch:
    """Every swap of `shift` with another person's shift of its layer in [start, end) that
    the rules allow, earliest first."""
    others = [
        other
        for other in rota.layer_shifts(shift.rotation, shift.layer, start, end, existing)
        if other.person is not None
        and other.person != shift.person
        and start <= other.start
        and other.end <= end
    ]
    allowed = [
        Swap(shift, other)
        for other in others
        if not swap_violations(rota, Swap(shift, other), existing, now=now)
    ]
    return SwapSearch(shift, start, end, allowed, len(others) - len(allowed))
