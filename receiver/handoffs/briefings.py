"""Handoff briefings from the store: gather the facts, find the handoffs due, brief each once.

`brief_due_handoffs` is the scheduler's job. For each layer of each rotation it looks at the
newest handoff at or before `now` (at most 7 days back; see `scheduler.briefing.due_handoff`)
and, unless that handoff was briefed already, composes the briefing and, in one transaction,
records the `HandoffBriefing` row, queues one notification per `notify:` target of the
rotation, and marks the notes it carried. The row's unique key (rotation, layer, handoff_at)
makes it exactly once: the check before the insert skips a handoff briefed by another
scheduler, and if two race past the check the loser's insert fails on the key, its
transaction is retried by the store and then finds the winner's row.

Only the newest handoff is ever briefed: older handoffs missed while onwatch was down (or
before it was deployed) are not recorded or sent, since their shift is over and the newest
briefing already carries the facts that still matter (open incidents, notes not yet briefed).
A briefing sent more than 5 minutes after its handoff is marked late.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, or_, select, update
from sqlmodel.sql.expression import SelectOfScalar

from receiver.config.settings import Settings
from receiver.handoffs.models import HandoffBriefing, HandoffNote
from receiver.incidents.models import IncidentRecord, IncidentStatus
from receiver.notify.outbox import enqueue
from receiver.paging.models import PageRecord
from receiver.postmortems.models import PostmortemRecord
from receiver.response.facts import load_action_items_of
from receiver.response.models import RoleRecord, StatusUpdateRecord
from receiver.rota.settings import RotationSettings
from receiver.rota.store import active_overrides
from receiver.store.database import Store, StoreUnavailable
from scheduler.briefing import (
    Briefing,
    FollowUp,
    HandoffFacts,
    LastUpdate,
    Note,
    OpenIncident,
    Paged,
    briefing_payload,
    briefing_subject,
    briefing_text,
    compose_briefing,
    due_handoff,
    next_handoff,
    shifts_around,
)
from scheduler.rota import Rota

log = logging.getLogger(__name__)

TOPIC = "handoff_briefing"
COMMANDER = "commander"


def dedup_key(rotation: str, layer: str, at: datetime) -> str:
    """The notification key of one layer's handoff: queued once per target."""
    return f"handoff-{rotation}-{layer}-{at:%Y%m%dT%H%MZ}"


def rotation_settings(settings: Settings, name: str) -> RotationSettings | None:
    """The configuration of rotation `name`, if there is one."""
    return next((r for r in settings.rotations if r.name == name), None)


# --------------------------------------------------------------------------------------
# Gathering the facts


def _open_incidents(session: Session, services: Sequence[str]) -> list[OpenIncident]:
    rows = session.exec(
        select(IncidentRecord)
        .where(IncidentRecord.status == IncidentStatus.OPEN)
        .where(col(IncidentRecord.service).in_(services))
        .order_by(col(IncidentRecord.id))
    ).all()
    ids = [row.id for row in rows]
    commanders = {
        role.incident_id: role.person
        for role in session.exec(
            select(RoleRecord)
            .where(col(RoleRecord.incident_id).in_(ids))
            .where(RoleRecord.role == COMMANDER)
        )
    }
    latest: dict[int, LastUpdate] = {}
    for posted in session.exec(
        select(StatusUpdateRecord)
        .where(col(StatusUpdateRecord.incident_id).in_(ids))
        .order_by(col(StatusUpdateRecord.at), col(StatusUpdateRecord.id))
    ):
        latest[posted.incident_id] = LastUpdate(
            posted.at, posted.by, posted.status, posted.current_action
        )
    return [
        OpenIncident(
            id=row.id or 0,
            title=row.title,
            service=row.service,
            severity=row.severity,
            channel=row.channel,
            opened_at=row.opened_at,
            acknowledged_by=row.acknowledged_by,
            commander=commanders.get(row.id or 0),
            last_update=latest.get(row.id or 0),
        )
        for row in rows
    ]


def _follow_ups(
    session: Session, settings: Settings, services: Sequence[str], start: datetime, end: datetime
) -> list[FollowUp]:
    rows = session.exec(
        select(IncidentRecord)
        .where(IncidentRecord.status == IncidentStatus.RESOLVED)
        .where(col(IncidentRecord.service).in_(services))
        .where(col(IncidentRecord.resolved_at) >= start)
        .where(col(IncidentRecord.resolved_at) < end)
        .order_by(col(IncidentRecord.id))
    ).all()
    ids = [row.id for row in rows if row.id is not None]  # loaded rows: all have ids
    postmortems = {
        p.incident_id: p
        for p in session.exec(
            select(PostmortemRecord).where(col(PostmortemRecord.incident_id).in_(ids))
        )
    }
    items = {
        incident_id: still_open
        for incident_id, of_incident in load_action_items_of(session, ids).items()
        if (still_open := [item for item in of_incident if item.status == "open"])
    }
    response = settings.response
    found = []
    for row in rows:
        assert row.id is not None and row.resolved_at is not None
        postmortem = postmortems.get(row.id)
        pending, due = None, None
        if postmortem is not None and postmortem.drafted_at is None:
            pending, due = "draft", row.resolved_at + response.postmortem_draft
        elif postmortem is not None and postmortem.reviewed_at is None:
            pending, due = "review", row.resolved_at + response.postmortem_review
        if pending is None and row.id not in items:
            continue  # nothing left to do for it
        found.append(
            FollowUp(
                id=row.id,
                title=row.title,
                service=row.service,
                severity=row.severity,
                resolved_at=row.resolved_at,
                postmortem=pending,
                postmortem_due=due,
                action_items=tuple(items.get(row.id, ())),
            )
        )
    return found


def _pages(session: Session, start: datetime, end: datetime) -> list[Paged]:
    return [
        Paged(person, at)
        for person, at in session.exec(
            select(PageRecord.person, PageRecord.at)
            .where(col(PageRecord.at) >= start)
            .where(col(PageRecord.at) < end)
        )
    ]


def _notes_statement(rotation: str, at: datetime) -> SelectOfScalar[HandoffNote]:
    # The notes left before the handoff and not carried by an earlier one; a note carried by
    # this handoff's briefing of another layer is carried again (every layer hears it).
    return (
        select(HandoffNote)
        .where(HandoffNote.rotation == rotation)
        .where(col(HandoffNote.at) < at)
        .where(or_(col(HandoffNote.briefed_at).is_(None), col(HandoffNote.briefed_at) == at))
        .order_by(col(HandoffNote.at), col(HandoffNote.id))
    )


def gather_facts(
    session: Session, *, settings: Settings, rota: Rota, rotation: str, at: datetime, now: datetime
) -> HandoffFacts:
    """What the briefing of the rotation's handoff at `at` reports, as of `now`."""
    rot = rota.rotation(rotation)
    (start, _), _ = shifts_around(rot, at)
    end = min(at, now)
    services = list(rot.services)
    notes = session.exec(_notes_statement(rotation, at)).all()
    return HandoffFacts(
        open_incidents=tuple(_open_incidents(session, services)),
        follow_ups=tuple(_follow_ups(session, settings, services, start, end)),
        pages=tuple(_pages(session, start, end)),
        overrides=tuple(active_overrides(session, rotation)),
        notes=tuple(Note(n.id or 0, n.at, n.by, n.text) for n in notes),
    )


def compose(
    session: Session,
    *,
    settings: Settings,
    rota: Rota,
    rotation: str,
    layer: str,
    at: datetime,
    now: datetime,
) -> Briefing:
    """The briefing of one layer's handoff at `at`, composed from the store at `now`."""
    facts = gather_facts(session, settings=settings, rota=rota, rotation=rotation, at=at, now=now)
    return compose_briefing(rota, rotation, layer, at, now, facts)


# --------------------------------------------------------------------------------------
# Briefing once per handoff


def _already_briefed(session: Session, rotation: str, layer: str, at: datetime) -> bool:
    return (
        session.exec(
            select(HandoffBriefing.id)
            .where(HandoffBriefing.rotation == rotation)
            .where(HandoffBriefing.layer == layer)
            .where(HandoffBriefing.handoff_at == at)
        ).first()
        is not None
    )


def brief_handoff(
    session: Session,
    *,
    settings: Settings,
    rota: Rota,
    rotation: str,
    layer: str,
    at: datetime,
    now: datetime,
) -> Briefing | None:
    """Record and queue the briefing of one layer's handoff; None if it was briefed already."""
    if _already_briefed(session, rotation, layer, at):
        return None
    briefing = compose(
        session, settings=settings, rota=rota, rotation=rotation, layer=layer, at=at, now=now
    )
    session.add(
        HandoffBriefing(
            rotation=rotation,
            layer=layer,
            handoff_at=at,
            outgoing=briefing.outgoing.name if briefing.outgoing else None,
            incoming=briefing.incoming.name if briefing.incoming else None,
            sent_at=now,
            late=briefing.late,
        )
    )
    session.flush()  # a second scheduler's row fails here, on the unique key: retried, skipped
    subject, text, payload = (
        briefing_subject(briefing),
        briefing_text(briefing),
        briefing_payload(briefing),
    )
    configured = rotation_settings(settings, rotation)
    for target in configured.notify if configured else ():
        if not settings.notifications.target(target).enabled:
            log.info(
                "handoff briefing of %s %s: target %s is not configured", rotation, layer, target
            )
            continue
        enqueue(
            session,
            target=target,
            topic=TOPIC,
            subject=subject,
            text=text,
            dedup_key=dedup_key(rotation, layer, at),
            now=now,
            deadline=timedelta(minutes=settings.dispatcher.deadline_minutes),
            payload=payload,
        )
    # Exactly the notes this briefing carries: one left meanwhile waits for the next.
    carried = [note.id for note in briefing.notes]
    if carried:
        session.execute(
            update(HandoffNote).where(col(HandoffNote.id).in_(carried)).values(briefed_at=at)
        )
    return briefing


def brief_due_handoffs(*, settings: Settings, store: Store, rota: Rota, now: datetime) -> int:
    """Brief every layer whose newest handoff has no briefing yet; how many were briefed.

    A layer that cannot be briefed (a bug) is logged and tried again on the next run; the
    store being unavailable stops the run (StoreUnavailable), to be retried by the next one.
    """
    briefed = 0
    for name, rotation in rota.rotations.items():
        at = due_handoff(rotation, now)
        if at is None:
            continue
        for layer in rotation.layers:
            # Most runs find every handoff briefed: ask without SQLite's write lock first.
            with store.read() as session:
                if _already_briefed(session, name, layer.name, at):
                    continue
            work = functools.partial(
                brief_handoff,
                settings=settings,
                rota=rota,
                rotation=name,
                layer=layer.name,
                at=at,
                now=now,
            )
            try:
                briefing = store.write(work)
            except StoreUnavailable:
                raise
            except Exception:
                log.exception("handoff briefing of %s %s at %s failed", name, layer.name, at)
                continue
            if briefing is not None:
                briefed += 1
                log.info(
                    "handoff briefing of %s %s at %s%s",
                    name,
                    layer.name,
                    at.isoformat(),
                    " (late)" if briefing.late else "",
                )
    return briefed


# --------------------------------------------------------------------------------------
# Notes, and the next handoff's briefing now

MAX_NOTE_CHARS = 10_000
MAX_NAME_CHARS = 200


def note_problem(by: object, text: object) -> str | None:
    """What is wrong with a note's fields, naming the field; None when it can be stored."""
    if not isinstance(by, str) or not by.strip():
        return "by: expected a non-empty string (who leaves the note)"
    if len(by) > MAX_NAME_CHARS:
        return f"by: at most {MAX_NAME_CHARS} characters"
    if not isinstance(text, str) or not text.strip():
        return "text: expected a non-empty string (the note)"
    if len(text) > MAX_NOTE_CHARS:
        return f"text: at most {MAX_NOTE_CHARS} characters"
    return None


def add_note(session: Session, *, rotation: str, by: str, text: str, now: datetime) -> HandoffNote:
    """Store a note for the rotation's next handoff briefing."""
    note = HandoffNote(rotation=rotation, at=now, by=by.strip(), text=text.strip())
    session.add(note)
    session.flush()
    return note


def note_view(note: HandoffNote) -> dict[str, object]:
    """A stored note as the API shows it."""
    return {
        "id": note.id,
        "rotation": note.rotation,
        "at": note.at.isoformat(),
        "by": note.by,
        "text": note.text,
        "briefed_at": note.briefed_at.isoformat() if note.briefed_at else None,
    }


def preview(
    session: Session, *, settings: Settings, rota: Rota, rotation: str, now: datetime
) -> list[Briefing]:
    """The briefing each layer's next handoff would send, composed now (nothing is written)."""
    rot = rota.rotation(rotation)
    at = next_handoff(rot, now)
    facts = gather_facts(session, settings=settings, rota=rota, rotation=rotation, at=at, now=now)
    return [compose_briefing(rota, rotation, layer.name, at, now, facts) for layer in rot.layers]


def preview_view(briefing: Briefing) -> dict[str, object]:
    """One layer's next briefing: when, who to whom, the subject and text, the structure."""
    return {
        "layer": briefing.layer,
        "handoff_at": briefing.handoff_at.isoformat(),
        "outgoing": briefing.outgoing.name if briefing.outgoing else None,
        "incoming": briefing.incoming.name if briefing.incoming else None,
        "subject": briefing_subject(briefing),
        "text": briefing_text(briefing),
        "briefing": briefing_payload(briefing),
    }
