"""Overrides: someone covers part of a layer's schedule (a whole shift, or a few hours).

Overrides never change the generated schedule itself: they are laid on top of it, so adding
or removing one changes only the range it covers and every other shift (and its calendar
UID) stays as it was. Where overrides overlap, the newest wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from scheduler.shifts import Shift, ShiftSource


@dataclass(frozen=True)
class Override:
    """`person` is on call for `layer` of `rotation` during [start, end) instead of the schedule."""

    id: int
    rotation: str
    layer: str
    person: str
    start: datetime  # aware
    end: datetime
    created_at: datetime
    forced: bool = False  # accepted although it breaks a rest gap: `rota check` flags it
    reason: str = ""


def apply_overrides(shifts: Sequence[Shift], overrides: Iterable[Override]) -> list[Shift]:
    """The final shifts of one layer: the schedule with its overrides laid on top.

    `shifts` is one layer's schedule in time order; `overrides` those of the same layer.
    Schedule shifts cut by an override keep their person for the rest of their range.
    """
    if not shifts:
        return []
    relevant = sorted(
        (o for o in overrides if o.start < shifts[-1].end and shifts[0].start < o.end),
        key=lambda o: o.id,
    )
    if not relevant:
        return list(shifts)
    cuts = sorted(
        {s.start for s in shifts}
        | {shifts[-1].end}
        | {max(o.start, shifts[0].start) for o in relevant}
        | {min(o.end, shifts[-1].end) for o in relevant}
    )
    final: list[Shift] = []
    shift_number = 0
    for piece_start, piece_end in zip(cuts, cuts[1:], strict=False):
        while shifts[shift_number].end <= piece_start:
            shift_number += 1
        base = shifts[shift_number]
        cover = next(
            (o for o in reversed(relevant) if o.start <= piece_start and piece_end <= o.end), None
        )
        piece = _piece(base, cover, piece_start, piece_end)
        previous = final[-1] if final else None
        if previous is not None and _continues(previous, piece):
            final[-1] = replace(previous, end=piece_end)
        else:
            final.append(piece)
    return final


def _piece(base: Shift, cover: Override | None, start: datetime, end: datetime) -> Shift:
    if cover is None:
        return (
            base if (base.start, base.end) == (start, end) else replace(base, start=start, end=end)
        )
    return replace(
        base,
        start=start,
        end=end,
        person=cover.person,
        source=ShiftSource.OVERRIDE,
        override_id=cover.id,
        note=f"override {cover.id}" + (f": {cover.reason}" if cover.reason else ""),
        rest_broken=False,
    )


def _continues(previous: Shift, piece: Shift) -> bool:
    if previous.end != piece.start or previous.source != piece.source:
        return False
    if piece.source == ShiftSource.OVERRIDE:
        return previous.override_id == piece.override_id
    return previous.index == piece.index
