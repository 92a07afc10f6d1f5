"""Postmortems and their action items: scheduling by hand, milestones, owners, due dates.

The seed: draft within 48 hours, review meeting within a week, action items assigned within
two weeks and completed within 30 days (or an exception documented). Every change is in
the incident's timeline.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from receiver.incidents.lookup import locked_incident
from receiver.incidents.models import IncidentRecord, add_to_timeline
from receiver.incidents.resolution import schedule
from receiver.postmortems.models import ActionItemRecord, PostmortemRecord
from receiver.response.context import ResponseContext
from receiver.response.facts import (
    load_action_items,
    load_alert_facts,
    load_facts,
    load_timeline,
)
from receiver.web.errors import Conflict, InputError
from response.postmortem import render_postmortem
from response.targets import ResponseTargets

MILESTONES = ("drafted", "reviewed", "exception")
OPEN, CLOSED = "open", "closed"


class UnknownActionItem(LookupError):
    """No action item has that id."""


def postmortem_draft(
    session: Session, incident_id: int, targets: ResponseTargets, now: datetime
) -> str | None:
    """The incident's postmortem draft in Markdown, or None if there is no such incident."""
    incident = session.get(IncidentRecord, incident_id)
    if incident is None:
        return None
    return render_postmortem(
        load_facts(session, incident),
        load_alert_facts(session, incident_id),
        load_timeline(session, incident_id),
        load_action_items(session, incident_id),
        targets,
        now,
    )


def schedule_by_hand(
    session: Session, incident_id: int, *, by: str, now: datetime, context: ResponseContext
) -> bool:
    """Ask for a postmortem the severity did not call for; False if one is scheduled."""
    incident = locked_incident(session, incident_id)
    return schedule(session, incident, by=by, now=now, context=context)


def _postmortem(session: Session, incident: IncidentRecord) -> PostmortemRecord:
    record = session.get(PostmortemRecord, incident.id)
    if record is None:
        raise Conflict(
            f"incident {incident.id} has no postmortem scheduled "
            "(POST /api/v1/incidents/<id>/postmortem schedules one)"
        )
    return record


def record_milestone(
    session: Session, incident_id: int, *, milestone: str, by: str, now: datetime, text: str = ""
) -> bool:
    """Record that the draft is written, the review held, or an exception documented."""
    if milestone not in MILESTONES:
        raise InputError(f"milestone: expected one of {', '.join(MILESTONES)}, got {milestone!r}")
    if milestone == "exception" and not text.strip():
        raise InputError("note: an exception must say why the action items are not done")
    incident = locked_incident(session, incident_id)
    record = _postmortem(session, incident)
    if milestone == "drafted":
        if record.drafted_at is not None:
            return False
        record.drafted_at = now
        message = f"postmortem draft written ({by})"
    elif milestone == "reviewed":
        if record.reviewed_at is not None:
            return False
        record.reviewed_at = now
        message = f"postmortem review meeting held ({by})"
    else:
        record.exception, record.exception_at = text.strip(), now
        message = f"postmortem action items exception documented by {by}: {text.strip()}"
    session.add(record)
    add_to_timeline(session, incident, now, f"postmortem_{milestone}", message, by=by, note=text)
    return True


def add_action_item(
    session: Session,
    incident_id: int,
    *,
    title: str,
    by: str,
    now: datetime,
    owner: str | None = None,
    due_at: datetime | None = None,
) -> ActionItemRecord:
    """Create an action item (owner and due date may come later)."""
    if not title.strip():
        raise InputError("title: say what must be done")
    incident = locked_incident(session, incident_id)
    item = ActionItemRecord(
        incident_id=incident_id,
        title=title.strip(),
        owner=owner,
        due_at=due_at,
        status=OPEN,
        created_at=now,
        created_by=by,
        assigned_at=now if owner and due_at else None,
    )
    session.add(item)
    session.flush()
    add_to_timeline(
        session,
        incident,
        now,
        "action_item_added",
        f"action item #{item.id} added by {by}: {item.title}" + _assignment(owner, due_at),
        action_item=item.id,
    )
    return item


def _assignment(owner: str | None, due_at: datetime | None) -> str:
    parts = [f"owner {owner}"] if owner else []
    if due_at:
        parts.append(f"due {due_at:%Y-%m-%d}")
    return f" ({', '.join(parts)})" if parts else ""


def _item(session: Session, item_id: int) -> tuple[ActionItemRecord, IncidentRecord]:
    item = session.exec(
        select(ActionItemRecord).where(ActionItemRecord.id == item_id).with_for_update()
    ).first()
    if item is None:
        raise UnknownActionItem(item_id)
    return item, locked_incident(session, item.incident_id)


def assign_action_item(
    session: Session,
    item_id: int,
    *,
    by: str,
    now: datetime,
    owner: str | None = None,
    due_at: datetime | None = None,
) -> ActionItemRecord:
    """Give an action item an owner and/or a due date."""
    if owner is None and due_at is None:
        raise InputError("give an owner, a due date, or both")
    item, incident = _item(session, item_id)
    if item.status == CLOSED:
        raise Conflict(f"action item {item_id} is closed")
    item.owner = owner or item.owner
    item.due_at = due_at or item.due_at
    if item.assigned_at is None and item.owner and item.due_at:
        item.assigned_at = now
    session.add(item)
    add_to_timeline(
        session,
        incident,
        now,
        "action_item_assigned",
        f"action item #{item.id} assigned by {by}" + _assignment(owner, due_at),
        action_item=item.id,
    )
    return item


def close_action_item(
    session: Session, item_id: int, *, by: str, now: datetime, text: str = ""
) -> bool:
    """Close an action item; False if it was closed already."""
    item, incident = _item(session, item_id)
    if item.status == CLOSED:
        return False
    item.status, item.closed_at, item.closed_by = CLOSED, now, by
    session.add(item)
    add_to_timeline(
        session,
        incident,
        now,
        "action_item_closed",
        f"action item #{item.id} closed by {by}: {item.title}" + (f" ({text})" if text else ""),
        action_item=item.id,
    )
    return True


def list_action_items(
    session: Session,
    *,
    now: datetime,
    overdue: bool = False,
    owner: str | None = None,
    incident_id: int | None = None,
) -> list[ActionItemRecord]:
    """Action items, open ones first by due date; only overdue open ones with `overdue`."""
    statement = select(ActionItemRecord).order_by(
        col(ActionItemRecord.status).desc(),  # open before closed
        col(ActionItemRecord.due_at).is_(None),
        col(ActionItemRecord.due_at),
        col(ActionItemRecord.id),
    )
    if overdue:
        statement = statement.where(ActionItemRecord.status == OPEN).where(
            col(ActionItemRecord.due_at) < now
        )
    if owner:
        statement = statement.where(ActionItemRecord.owner == owner)
    if incident_id is not None:
        statement = statement.where(ActionItemRecord.incident_id == incident_id)
    return list(session.exec(statement).all())
