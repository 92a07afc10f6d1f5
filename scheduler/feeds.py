"""What goes into a rota calendar feed: shifts as events, and the events to cancel.

Every event's UID is a hash of the whole shift it shows, so regenerating a feed keeps the
UID of every shift that did not change, and calendar apps update instead of duplicating.
Every event a feed may have published and no longer shows is listed as STATUS:CANCELLED
under its UID, so that calendars that had it drop it: the schedule before any override, the
pieces each override (in force or deleted) made alone and with each override overlapping
it, and the pieces with every override there is. A feed keeps no memory of what it
published, so this covers what histories of one or two overlapping overrides can have shown.

SEQUENCE only grows (RFC 5546: a client ignores an update whose SEQUENCE is not higher):
an event's SEQUENCE counts the changes made over what it is a piece of (its scheduled slot,
or its override), one per override overlapping that and one more if the override was
deleted. Every change that republishes a UID (cancelled, then restored) is one of those,
and overrides are never forgotten (deleting one only marks it), so the count never falls.

DTSTAMP comes from the rota itself (the rotation's start, the override's creation), never
from "now", so an unchanged feed renders byte-identical and its ETag holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from weakref import WeakKeyDictionary

from scheduler.calendar import CalendarEvent, RenderedEvents, render_feed, shift_uid
from scheduler.handoffs import handoff_at
from scheduler.overrides import Override
from scheduler.rota import Rota
from scheduler.shifts import Shift, ShiftSource


@lru_cache(maxsize=100_000)  # a pure function of the shift: feeds ask again and again
def _uid(shift: Shift) -> str:
    if shift.source == ShiftSource.OVERRIDE:
        kind, key = "override", str(shift.override_id)
    else:
        kind, key = "schedule", str(shift.index)
    return shift_uid(
        kind,
        shift.rotation,
        shift.layer,
        key,
        shift.person or "",
        shift.start.isoformat(),
        shift.end.isoformat(),
    )


def _summary(shift: Shift) -> str:
    who = shift.person or "NOBODY (gap)"
    return f"On call: {shift.rotation} {shift.layer} — {who}"


def _event(
    rota: Rota,
    shift: Shift,
    uid: str,
    overrides: dict[int, Override],
    *,
    sequence: int,
    cancelled: bool = False,
) -> CalendarEvent:
    rotation = rota.rotations[shift.rotation]
    override = overrides.get(shift.override_id) if shift.override_id is not None else None
    stamp = (
        override.created_at
        if override is not None
        else datetime.combine(rotation.start, time(0), rotation.zone).astimezone(UTC)
    )
    lines = [f"Rotation {rotation.name} ({rotation.zone.key}), layer {shift.layer}."]
    if shift.person is not None:
        person = rota.people[shift.person]
        lines.append(f"On call: {person.name} <{person.email}> ({person.zone.key}).")
    if shift.is_gap or shift.rest_broken or shift.override_id is not None:
        lines.append(shift.note)  # why the schedule is unusual here (routine skips are not)
    if cancelled:
        lines.append("This shift was changed by an override.")
    return CalendarEvent(
        uid=uid,
        summary=_summary(shift),
        start=shift.start,
        end=shift.end,
        stamp=stamp,
        description="\n".join(lines),
        cancelled=cancelled,
        sequence=sequence,
    )


_Changes = dict[tuple[str, str], list[tuple[Override, bool]]]
# Each rota's events as built, by what they are built from: feeds ask for the same ones on
# every render (the rota is fixed for a process; a rota dropped takes its memo with it).
_EVENTS: WeakKeyDictionary[Rota, dict[tuple[object, ...], CalendarEvent]] = WeakKeyDictionary()
_EVENTS_KEPT = 50_000


def _sequence(rota: Rota, shift: Shift, changes: _Changes, by_id: dict[int, Override]) -> int:
    """How many changes were made over what the shift is a piece of (its scheduled slot, or
    its override): the SEQUENCE of its events."""
    mine = changes.get((shift.rotation, shift.layer))
    if not mine:
        return 0
    # A piece lies within its slot: no change within a shift length of it, none over the slot.
    reach = rota.rotations[shift.rotation].shift.wall_clock() + timedelta(hours=1)
    if not any(o.start < shift.end + reach and shift.start - reach < o.end for o, _ in mine):
        return 0
    if shift.override_id is not None and shift.override_id in by_id:
        owner = by_id[shift.override_id]
        start, end = owner.start, owner.end
    else:
        rotation = rota.rotations[shift.rotation]
        start, end = handoff_at(rotation, shift.index), handoff_at(rotation, shift.index + 1)
    return sum(1 + deleted for o, deleted in mine if o.start < end and start < o.end)


def feed_events(
    rota: Rota,
    final: Sequence[Shift],
    replaced: Iterable[Shift],
    overrides: Sequence[Override],
    deleted: Sequence[Override] = (),
) -> list[CalendarEvent]:
    """Events for `final` shifts, plus cancellations for `replaced` ones no longer shown."""
    by_id = {override.id: override for override in [*overrides, *deleted]}
    changes: _Changes = {}
    for override, gone in [*((o, False) for o in overrides), *((o, True) for o in deleted)]:
        changes.setdefault((override.rotation, override.layer), []).append((override, gone))
    memo = _EVENTS.setdefault(rota, {})
    if len(memo) > _EVENTS_KEPT:
        memo.clear()

    def event(shift: Shift, uid: str, *, cancelled: bool = False) -> CalendarEvent:
        sequence = _sequence(rota, shift, changes, by_id)
        owner = by_id.get(shift.override_id) if shift.override_id is not None else None
        key = (shift, sequence, cancelled, owner.created_at if owner else None)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _event(
                rota, shift, uid, by_id, sequence=sequence, cancelled=cancelled
            )
        return found

    events = {}
    for shift in final:
        uid = _uid(shift)
        events[uid] = event(shift, uid)
    shown = set(final)
    for shift in dict.fromkeys(replaced):  # each once, in order
        if shift in shown:
            continue
        uid = _uid(shift)
        if uid not in events:
            events[uid] = event(shift, uid, cancelled=True)
    return list(events.values())


def rotation_events(
    rota: Rota,
    rotation: str,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override],
    deleted: Sequence[Override] = (),
) -> list[CalendarEvent]:
    """A rotation's feed: every layer's final shifts, gaps included, with cancellations."""
    final = rota.rotation_shifts(rotation, start, end, overrides)
    replaced = _maybe_published(rota, rotation, start, end, [*overrides, *deleted], overrides)
    return feed_events(rota, final, replaced, overrides, deleted)


def person_events(
    rota: Rota,
    person: str,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override],
    deleted: Sequence[Override] = (),
) -> list[CalendarEvent]:
    """A person's feed: their final shifts in every rotation, with cancellations."""
    final = rota.person_shifts(person, start, end, overrides)
    every = [*overrides, *deleted]
    replaced = [
        shift
        for name in rota.rotations_of(person, every)
        for shift in _maybe_published(rota, name, start, end, every, overrides)
        if shift.person == person
    ]
    return feed_events(rota, final, replaced, overrides, deleted)


def _maybe_published(
    rota: Rota,
    rotation: str,
    start: datetime,
    end: datetime,
    every: Sequence[Override],
    settled: Sequence[Override] = (),
) -> list[Shift]:
    """The shifts a feed of `rotation` may have shown in [start, end) (see the module's
    docstring): candidates for cancellation when the feed no longer shows them. `settled`
    are the overrides in force, whose final shifts the feed shows anyway."""
    shown = list(rota.rotation_shifts(rotation, start, end))
    mine = [o for o in every if o.rotation == rotation and o.start < end and start < o.end]
    for override in mine:
        # Only the shifts around an override change with it: ask about its span and the
        # scheduled shifts it cuts (one shift length either side, and an hour for DST).
        reach = rota.rotation(rotation).shift.wall_clock() + timedelta(hours=1)
        near = (max(start, override.start - reach), min(end, override.end + reach))
        shown += rota.layer_shifts(rotation, override.layer, *near, [override])
        for other in mine:
            if (
                other.id > override.id
                and other.layer == override.layer
                and other.start < override.end
                and override.start < other.end
            ):
                shown += rota.layer_shifts(rotation, override.layer, *near, [override, other])
    if any(o not in settled for o in mine):  # with every override there is, deleted too
        shown += rota.rotation_shifts(rotation, start, end, mine)
    return shown


def feed_window(now: datetime, back: timedelta, ahead: timedelta) -> tuple[datetime, datetime]:
    """The span a feed covers, aligned to UTC midnights so it changes at most once a day."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - back, midnight + ahead


def rotation_feed(
    rota: Rota,
    rotation: str,
    window: tuple[datetime, datetime],
    overrides: Sequence[Override],
    deleted: Sequence[Override] = (),
    refresh: timedelta = timedelta(hours=1),
    rendered: RenderedEvents | None = None,
) -> bytes:
    """The ICS feed of one rotation (every layer, everyone's shifts)."""
    zone = rota.rotation(rotation).zone.key
    events = rotation_events(rota, rotation, *window, overrides, deleted)
    return render_feed(
        name=f"On call: {rotation}",
        zone_name=zone,
        events=events,
        refresh=refresh,
        description=f"onwatch rota of {rotation}: every layer, overrides applied",
        rendered=rendered or RenderedEvents(),
    )


def person_feed(
    rota: Rota,
    person: str,
    window: tuple[datetime, datetime],
    overrides: Sequence[Override],
    deleted: Sequence[Override] = (),
    refresh: timedelta = timedelta(hours=1),
    rendered: RenderedEvents | None = None,
) -> bytes:
    """The ICS feed of one person's shifts across every rotation."""
    zone = rota.people[person].zone.key
    events = person_events(rota, person, *window, overrides, deleted)
    return render_feed(
        name=f"On call: {person}",
        zone_name=zone,
        events=events,
        refresh=refresh,
        description=f"onwatch: {person}'s on-call shifts in every rotation, overrides applied",
        rendered=rendered or RenderedEvents(),
    )
