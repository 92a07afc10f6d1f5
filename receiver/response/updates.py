"""Status updates: what the responders tell everyone else, in the seed's templates.

An update is stored, written in the timeline, rendered for each audience its severity calls
for (the internal update for the team, the executive update for leadership), and queued in
the notification outbox, all in one transaction. An update whose status is "resolved"
resolves the incident: the all-clear is then the message that goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from receiver.incidents.actions import resolve
from receiver.incidents.lookup import locked_incident
from receiver.incidents.models import IncidentStatus, add_to_timeline
from receiver.notify.announcements import announce
from receiver.response.context import ResponseContext
from receiver.response.facts import STATUS_UPDATE, load_facts
from receiver.response.models import StatusUpdateRecord
from receiver.web.errors import Conflict, InputError
from response.facts import StatusUpdate, UpdateStatus


@dataclass(frozen=True)
class PostedUpdate:
    """The stored update and where its message was queued."""

    incident_id: int
    update_id: int
    targets: tuple[str, ...]
    skipped: tuple[str, ...]
    resolved: bool


def parse_status(text: str) -> UpdateStatus:
    """An update status, or InputError naming the four the seed uses."""
    try:
        return UpdateStatus(text.strip().lower())
    except ValueError:
        known = ", ".join(status.value for status in UpdateStatus)
        raise InputError(f"status: expected one of {known}, got {text!r}") from None


def post_update(
    session: Session,
    incident_id: int,
    *,
    by: str,
    status: UpdateStatus,
    impact: str,
    current_action: str,
    eta: str,
    now: datetime,
    context: ResponseContext,
) -> PostedUpdate:
    """Store, record and announce one status update."""
    if not impact.strip():
        raise InputError("impact: say who is affected and what is broken")
    if not current_action.strip():
        raise InputError("current_action: say what is being done now")
    incident = locked_incident(session, incident_id)
    assert incident.id is not None
    if incident.status != IncidentStatus.OPEN:
        raise Conflict(f"incident {incident.id} is resolved: post no more updates")
    record = StatusUpdateRecord(
        incident_id=incident.id,
        at=now,
        by=by,
        status=status.value,
        severity=incident.severity,
        impact=impact.strip(),
        current_action=current_action.strip(),
        eta=eta.strip(),
    )
    session.add(record)
    session.flush()
    assert record.id is not None
    summary = (
        f"[{incident.severity}] - {incident.service} - {status.value.capitalize()} | "
        f"Impact: {record.impact} | Current action: {record.current_action} | "
        f"ETA: {record.eta or '-'}"
    )
    if status == UpdateStatus.RESOLVED:
        add_to_timeline(
            session, incident, now, "status_update", f"{summary} (by {by})", update_id=record.id
        )
        resolve(session, incident.id, by=by, now=now, context=context)
        return PostedUpdate(incident.id, record.id, (), (), resolved=True)
    facts = load_facts(session, incident)
    update = StatusUpdate(now, by, status, record.impact, record.current_action, record.eta)
    announced = announce(
        session,
        incident,
        topic=STATUS_UPDATE,
        render=lambda templates, template: templates.status_update(
            template, facts, update, now, mttr_target=context.targets.mttr_for(incident.severity)
        ),
        context=context,
        now=now,
        dedup_key=f"update-{record.id}",
    )
    add_to_timeline(
        session,
        incident,
        now,
        "status_update",
        f"{summary} (by {by}); {announced.describe()}",
        update_id=record.id,
        targets=list(announced.targets),
    )
    return PostedUpdate(incident.id, record.id, announced.targets, announced.skipped, False)
