"""Handoff briefings: what the outgoing on-call person tells the incoming one, composed.

At each handoff of a rotation's layer the briefing carries the open incidents of the
rotation's services, the incidents resolved during the outgoing shift that still owe a
postmortem or action items, the outgoing shift's load (pages, interruptions, night pages and
the seed's "more than 2 pages a night" line), the overrides and absences of the incoming
shift, and the notes left for it. Pure: the store gathers the facts as values, `now` is an
argument, and rendering (Jinja2, `templates/handoff_briefing.txt.j2`) reads no clock.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from response.facts import ActionItem
from response.resolution import format_span
from scheduler.burden import Policy, interruptions, night_window
from scheduler.handoffs import handoff_at, index_at
from scheduler.night_pages import NIGHT_PAGE_LIMIT, NightLoad, is_night_page
from scheduler.overrides import Override
from scheduler.roster import Person, Rotation
from scheduler.rota import Rota

LATE_AFTER = timedelta(minutes=5)  # briefed later than this after the handoff: marked late
LOOKBACK_LIMIT = timedelta(days=7)  # a handoff older than this is never briefed
# Pages this close count as one interruption: the burden report's window, so both agree.
INTERRUPTION_WINDOW = Policy().interruption_window
TEMPLATE = "handoff_briefing.txt.j2"


@dataclass(frozen=True)
class LastUpdate:
    """The newest status update of an incident."""

    at: datetime
    by: str
    status: str  # investigating | identified | monitoring | resolved
    current_action: str = ""


@dataclass(frozen=True)
class OpenIncident:
    """An open incident of one of the rotation's services."""

    id: int
    title: str
    service: str
    severity: str
    channel: str
    opened_at: datetime
    acknowledged_by: str | None = None
    commander: str | None = None  # the Incident Commander, if one is assigned
    last_update: LastUpdate | None = None

    @property
    def status(self) -> str:
        """The last update's status; before any, "acknowledged" or "triggered"."""
        if self.last_update is not None:
            return self.last_update.status
        return "acknowledged" if self.acknowledged_by else "triggered"


@dataclass(frozen=True)
class FollowUp:
    """An incident resolved during the outgoing shift that still has work to do."""

    id: int
    title: str
    service: str
    severity: str
    resolved_at: datetime
    postmortem: str | None = None  # "draft" or "review": the pending milestone, if any
    postmortem_due: datetime | None = None
    action_items: tuple[ActionItem, ...] = ()  # the open ones


@dataclass(frozen=True)
class Paged:
    """One page from the ledger: who, when."""

    person: str
    at: datetime


@dataclass(frozen=True)
class Note:
    """A note left for the next shift."""

    id: int
    at: datetime
    by: str
    text: str


@dataclass(frozen=True)
class HandoffFacts:
    """What the store knows that a briefing reports, gathered for one handoff."""

    open_incidents: tuple[OpenIncident, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    pages: tuple[Paged, ...] = ()  # every page of the outgoing shift's span, anyone's
    overrides: tuple[Override, ...] = ()  # the rotation's overrides in force
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class Load:
    """What one person on call during the outgoing shift carried."""

    person: str
    pages: int
    interruptions: int
    night: NightLoad


@dataclass(frozen=True)
class Absence:
    """A member unavailable during the incoming shift (days in their own zone)."""

    person: str
    first_day: date
    last_day: date
    reason: str


@dataclass(frozen=True)
class Briefing:
    """One handoff briefing of one layer, as composed at `composed_at`."""

    rotation: str
    layer: str
    zone: ZoneInfo
    handoff_at: datetime
    composed_at: datetime
    outgoing: Person | None
    incoming: Person | None
    outgoing_shift: tuple[datetime, datetime]
    incoming_shift: tuple[datetime, datetime]
    open_incidents: tuple[OpenIncident, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    load: tuple[Load, ...] = ()
    overrides: tuple[Override, ...] = ()
    absences: tuple[Absence, ...] = ()
    notes: tuple[Note, ...] = ()

    @property
    def late(self) -> bool:
        """True when composed more than LATE_AFTER after the handoff (onwatch was down)."""
        return self.composed_at - self.handoff_at > LATE_AFTER


# --------------------------------------------------------------------------------------
# When handoffs happen


def due_handoff(rotation: Rotation, now: datetime) -> datetime | None:
    """The newest handoff at or before `now`, unless the rotation has not started or it is
    older than LOOKBACK_LIMIT: the only handoff a briefing may still be owed for."""
    index = index_at(rotation, now)
    if index < 0:
        return None
    at = handoff_at(rotation, index)
    return at if now - at <= LOOKBACK_LIMIT else None


def next_handoff(rotation: Rotation, now: datetime) -> datetime:
    """The first handoff after `now`."""
    return handoff_at(rotation, max(index_at(rotation, now) + 1, 0))


def shifts_around(
    rotation: Rotation, at: datetime
) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """The outgoing and incoming slots of the handoff at `at`: [previous, at), [at, next)."""
    index = index_at(rotation, at)
    return (handoff_at(rotation, index - 1), at), (at, handoff_at(rotation, index + 1))


# --------------------------------------------------------------------------------------
# Composing


def compose_briefing(
    rota: Rota, rotation: str, layer: str, at: datetime, now: datetime, facts: HandoffFacts
) -> Briefing:
    """The briefing of `layer`'s handoff at `at`, composed at `now` from `facts`.

    Before the handoff (a preview) the outgoing shift is counted up to `now`.
    """
    rot = rota.rotation(rotation)
    outgoing_shift, incoming_shift = shifts_around(rot, at)
    overrides = [o for o in facts.overrides if o.rotation == rotation]
    before = rota.on_call(rotation, at - timedelta(microseconds=1), overrides)[layer]
    after = rota.on_call(rotation, at, overrides)[layer]
    counted = (outgoing_shift[0], min(at, now))
    return Briefing(
        rotation=rotation,
        layer=layer,
        zone=rot.zone,
        handoff_at=at,
        composed_at=now,
        outgoing=rota.people.get(before.person) if before and before.person else None,
        incoming=rota.people.get(after.person) if after and after.person else None,
        outgoing_shift=outgoing_shift,
        incoming_shift=incoming_shift,
        open_incidents=tuple(
            sorted(facts.open_incidents, key=lambda i: (i.severity, i.opened_at, i.id))
        ),
        follow_ups=tuple(sorted(facts.follow_ups, key=lambda f: (f.resolved_at, f.id))),
        load=shift_load(rota, rotation, layer, counted, facts.pages, overrides),
        overrides=tuple(
            sorted(
                (o for o in overrides if o.start < incoming_shift[1] and incoming_shift[0] < o.end),
                key=lambda o: (o.start, o.layer, o.id),
            )
        ),
        absences=absences(rota, rot, incoming_shift),
        notes=tuple(sorted(facts.notes, key=lambda n: (n.at, n.id))),
    )


def shift_load(
    rota: Rota,
    rotation: str,
    layer: str,
    span: tuple[datetime, datetime],
    pages: Iterable[Paged],
    overrides: Sequence[Override] = (),
) -> tuple[Load, ...]:
    """Each person's load while on call for `layer` during `span`, in order of first shift.

    A person's pages are every page they received while they held the layer (an escalation
    of another rotation reaching them then is load too); nights are their own night windows
    that overlap the time they held it.
    """
    start, end = span
    if end <= start:
        return ()
    held: dict[str, list[tuple[datetime, datetime]]] = {}
    for shift in rota.layer_shifts(rotation, layer, start, end, overrides):
        if shift.person is not None:
            held.setdefault(shift.person, []).append((max(shift.start, start), min(shift.end, end)))
    pages = sorted(pages, key=lambda p: p.at)
    loads = []
    for name, intervals in held.items():
        person = rota.people[name]
        times = [
            p.at for p in pages if p.person == name and any(s <= p.at < e for s, e in intervals)
        ]
        night_pages = sum(1 for at in times if is_night_page(person, at))
        loads.append(
            Load(
                person=name,
                pages=len(times),
                interruptions=interruptions(times, INTERRUPTION_WINDOW),
                night=NightLoad(night_pages, max(_nights(person, intervals), 1)),
            )
        )
    return tuple(loads)


def _nights(person: Person, intervals: Sequence[tuple[datetime, datetime]]) -> int:
    """How many of the person's night windows overlap one of `intervals`."""
    first = min(s for s, _ in intervals).astimezone(person.zone).date() - timedelta(days=1)
    last = max(e for _, e in intervals).astimezone(person.zone).date()
    count, day = 0, first
    while day <= last:
        night_start, night_end = night_window(person, day)
        if any(s < night_end and night_start < e for s, e in intervals):
            count += 1
        day += timedelta(days=1)
    return count


def absences(
    rota: Rota, rotation: Rotation, span: tuple[datetime, datetime]
) -> tuple[Absence, ...]:
    """The rotation's members unavailable at some time during `span`."""
    found = []
    for member in rotation.members:
        person = rota.people.get(member.person)
        if person is None:
            continue
        for period in person.unavailable:
            start, end = period.window(person.zone)
            if start < span[1] and span[0] < end:
                found.append(Absence(person.name, period.first_day, period.last_day, period.reason))
    return tuple(sorted(found, key=lambda a: (a.first_day, a.person)))


# --------------------------------------------------------------------------------------
# Rendering


def format_instant(at: datetime, zone: ZoneInfo) -> str:
    """An instant on `zone`'s clock: "Mon 2026-11-09 09:00 GMT"."""
    return f"{at.astimezone(zone):%a %Y-%m-%d %H:%M %Z}"


def briefing_subject(briefing: Briefing) -> str:
    """One line: rotation, layer, who hands over to whom, when; LATE first when late."""
    outgoing = briefing.outgoing.name if briefing.outgoing else "nobody"
    incoming = briefing.incoming.name if briefing.incoming else "nobody"
    when = format_instant(briefing.handoff_at, briefing.zone)
    subject = f"Handoff {briefing.rotation} {briefing.layer}: {outgoing} -> {incoming} at {when}"
    return f"LATE {subject}" if briefing.late else subject


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("scheduler", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # plain text (Slack mrkdwn passes through)
    )


def briefing_text(briefing: Briefing) -> str:
    """The briefing as a person reads it (mail body, chat message), times on the rotation's
    clock."""
    zone = briefing.zone
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            b=briefing,
            when=lambda at: format_instant(at, zone),
            day=lambda d: f"{d:%a %Y-%m-%d}",
            duration=format_span,
            age=lambda at: format_span(briefing.composed_at - at),
            contact=_contact_line,
            plural=_plural,
            limit=f"{NIGHT_PAGE_LIMIT:g}",
        )
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _contact_line(person: Person | None) -> str:
    return f"{person.name} <{person.email}>" if person else "nobody (a gap in the rota)"


# --------------------------------------------------------------------------------------
# The structured briefing (the notification's payload, the API's answer)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _contact(person: Person | None) -> dict[str, str] | None:
    if person is None:
        return None
    return {"name": person.name, "email": person.email, "time_zone": person.zone.key}


def recipients(briefing: Briefing) -> list[dict[str, str]]:
    """Whom the briefing is for: the incoming then the outgoing person, each address once
    (one person on both sides of an override is written to once)."""
    found: dict[str, dict[str, str]] = {}
    for person in (briefing.incoming, briefing.outgoing):
        if person is not None and person.email.lower() not in found:
            found[person.email.lower()] = {"name": person.name, "email": person.email}
    return list(found.values())


def briefing_payload(briefing: Briefing) -> dict[str, Any]:
    """The briefing as JSON-ready values, with both people's addresses; `recipients` names
    whom an e-mail target writes to."""
    return {
        "kind": "handoff_briefing",
        "rotation": briefing.rotation,
        "layer": briefing.layer,
        "time_zone": briefing.zone.key,
        "handoff_at": _iso(briefing.handoff_at),
        "composed_at": _iso(briefing.composed_at),
        "late": briefing.late,
        "outgoing": _contact(briefing.outgoing),
        "incoming": _contact(briefing.incoming),
        "recipients": recipients(briefing),
        "outgoing_shift": {
            "start": _iso(briefing.outgoing_shift[0]),
            "end": _iso(briefing.outgoing_shift[1]),
        },
        "incoming_shift": {
            "start": _iso(briefing.incoming_shift[0]),
            "end": _iso(briefing.incoming_shift[1]),
        },
        "open_incidents": [_open_view(i, briefing.composed_at) for i in briefing.open_incidents],
        "follow_ups": [_follow_up_view(f) for f in briefing.follow_ups],
        "load": [_load_view(load) for load in briefing.load],
        "coming_up": {
            "overrides": [
                {
                    "id": o.id,
                    "layer": o.layer,
                    "person": o.person,
                    "start": _iso(o.start),
                    "end": _iso(o.end),
                    "reason": o.reason,
                }
                for o in briefing.overrides
            ],
            "unavailable": [
                {
                    "person": a.person,
                    "first_day": a.first_day.isoformat(),
                    "last_day": a.last_day.isoformat(),
                    "reason": a.reason,
                }
                for a in briefing.absences
            ],
        },
        "notes": [
            {"id": n.id, "at": _iso(n.at), "by": n.by, "text": n.text} for n in briefing.notes
        ],
    }


def _open_view(incident: OpenIncident, now: datetime) -> dict[str, Any]:
    update = incident.last_update
    return {
        "id": incident.id,
        "title": incident.title,
        "service": incident.service,
        "severity": incident.severity,
        "status": incident.status,
        "channel": incident.channel,
        "commander": incident.commander,
        "acknowledged_by": incident.acknowledged_by,
        "opened_at": _iso(incident.opened_at),
        "age_seconds": int((now - incident.opened_at).total_seconds()),
        "last_update": None
        if update is None
        else {
            "at": _iso(update.at),
            "by": update.by,
            "status": update.status,
            "current_action": update.current_action,
        },
    }


def _follow_up_view(follow_up: FollowUp) -> dict[str, Any]:
    return {
        "id": follow_up.id,
        "title": follow_up.title,
        "service": follow_up.service,
        "severity": follow_up.severity,
        "resolved_at": _iso(follow_up.resolved_at),
        "postmortem_pending": follow_up.postmortem,
        "postmortem_due": _iso(follow_up.postmortem_due),
        "open_action_items": [
            {"id": a.id, "title": a.title, "owner": a.owner, "due_at": _iso(a.due_at)}
            for a in follow_up.action_items
        ],
    }


def _load_view(load: Load) -> dict[str, Any]:
    return {
        "person": load.person,
        "pages": load.pages,
        "interruptions": load.interruptions,
        "night_pages": load.night.night_pages,
        "nights": load.night.nights,
        "night_pages_per_night": round(load.night.average, 2),
        "over_night_limit": load.night.over_limit,
    }
