"""Each person's month: hours and nights on call, pages, acknowledgements and rests.

One `PersonBurden` per person on call or paged: their pages, interruptions, night and
out-of-hours pages, nights on call and the average night pages over them against the policy's
limit, how many of the incidents they were paged for were acknowledged in time from their own
first page, and the shortest rest between two of their shifts, with a flag for each rest
shorter than a rotation asks for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import ge

from scheduler.burden.nights import _merge, nights_on_call
from scheduler.burden.stats import _pct, interruptions
from scheduler.burden.values import (
    RECOMMENDATION,
    Flag,
    Month,
    PersonBurden,
    Policy,
    _at,
    _incident_id,
    _night,
    _out_of_hours,
    _page,
    _Seen,
)
from scheduler.night_pages import per_night
from scheduler.roster import Person
from scheduler.shifts import Shift, ShiftSource

_NEVER = datetime.max.replace(tzinfo=UTC)


def _rests(
    shifts: Sequence[Shift], month: Month, min_rest: Mapping[str, timedelta]
) -> tuple[float | None, list[Flag]]:
    """Shortest rest ending in the month between two of one person's shifts, and breaches."""
    # A scheduled shift cut in two by someone else's override is still one shift: no rest.
    spans: dict[tuple[str, str, int], tuple[datetime, datetime]] = {}
    pieces: list[tuple[datetime, datetime, str]] = []
    for shift in shifts:
        if shift.source == ShiftSource.SCHEDULE:
            key = (shift.rotation, shift.layer, shift.index)
            first, last = spans.get(key, (shift.start, shift.end))
            spans[key] = (min(first, shift.start), max(last, shift.end))
        else:
            pieces.append((shift.start, shift.end, shift.rotation))
    pieces += [(start, end, key[0]) for key, (start, end) in spans.items()]
    blocks: list[tuple[datetime, datetime, set[str]]] = []
    for start, end, rotation in sorted(pieces):
        if blocks and start <= blocks[-1][1]:
            began, ended, names = blocks[-1]
            blocks[-1] = (began, max(ended, end), names | {rotation})
        else:
            blocks.append((start, end, {rotation}))
    shortest: timedelta | None = None
    flags: list[Flag] = []
    for (_, ended, before), (began, _, after) in zip(blocks, blocks[1:], strict=False):
        if not month.start <= began < month.end:
            continue
        rest = began - ended
        shortest = rest if shortest is None else min(shortest, rest)
        # Sorted first: of two rotations asking for the same rest, always the same one.
        strictest = max(sorted(before | after), key=lambda name: min_rest.get(name, timedelta(0)))
        required = min_rest.get(strictest, timedelta(0))
        if rest < required:
            flags.append(
                Flag(
                    rule="min_rest",
                    message=f"{_hours(rest):g} h between shifts ({ended:%Y-%m-%d %H:%M} UTC to "
                    f"{began:%Y-%m-%d %H:%M} UTC), {strictest} asks for {_hours(required):g} h",
                    rotation=strictest,
                    start=ended,
                    end=began,
                )
            )
    return (None if shortest is None else _hours(shortest)), flags


def _hours(span: timedelta) -> float:
    return round(span.total_seconds() / 3600, 2)


def _person(
    person: Person,
    seen: Sequence[_Seen],
    shifts: Sequence[Shift],
    all_shifts: Sequence[Shift],
    ack_by: Mapping[int, datetime],
    month: Month,
    min_rest: Mapping[str, timedelta],
    policy: Policy,
    until: datetime,
) -> PersonBurden:
    """One person's figures; shifts, hours and nights on call count up to `until` (the end of
    what has passed of the month: `Month.until`)."""
    in_month = [s for s in shifts if s.start < until and month.start < s.end]
    clipped = _merge((max(s.start, month.start), min(s.end, until)) for s in in_month)
    hours = sum((end - start for start, end in clipped), timedelta(0))
    nights = nights_on_call(person, clipped, month)
    # map / itemgetter rather than generator expressions: these run over a month's pages.
    by_night = Counter(filter(None, map(_night, seen)))  # a date is never false
    night_pages = sum(by_night.values())
    # Backwards, so that each incident keeps its first page.
    pages = list(map(_page, seen))
    first_page = dict(
        zip(map(_incident_id, reversed(pages)), map(_at, reversed(pages)), strict=True)
    )
    # On time: paged at or after the incident's acknowledgement less the target (`ack_by`;
    # an incident never acknowledged, or unknown, never is).
    on_time = sum(map(ge, first_page.values(), map(ack_by.get, first_page, repeat(_NEVER))))
    average = per_night(night_pages, len(nights))
    shortest, flags = _rests(all_shifts, month, min_rest)
    if average > policy.night_page_limit:
        flags.insert(
            0,
            Flag(
                rule="night_pages",
                message=f"{average:.2f} night pages a night on call ({night_pages} over "
                f"{len(nights)} nights), more than {policy.night_page_limit:g}: {RECOMMENDATION}",
            ),
        )
    return PersonBurden(
        name=person.name,
        time_zone=person.zone.key,
        shifts=len(in_month),
        on_call_hours=_hours(hours),
        pages=len(seen),
        interruptions=interruptions(list(map(_at, pages)), policy.interruption_window),
        night_pages=night_pages,
        nights_on_call=len(nights),
        nights_over_limit=sum(1 for n in by_night.values() if n > policy.night_page_limit),
        night_pages_per_night=round(average, 2),
        out_of_hours_pages=sum(map(_out_of_hours, seen)),
        paged_incidents=len(first_page),
        acked_within_target=on_time,
        ack_within_target_pct=_pct(on_time, len(first_page)),
        shortest_rest_hours=shortest,
        flags=tuple(flags),
        night_pages_by_night=dict(sorted(by_night.items())),
    )
