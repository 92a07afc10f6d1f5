"""Reading an incident's response state from the store as the pure code's values."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from receiver.models import AlertRecord, IncidentRecord, TimelineEntry
from receiver.response_models import (
    ActionItemRecord,
    ChecklistTick,
    NotificationMessage,
    PostmortemRecord,
    ReminderRecord,
    RoleRecord,
    StatusUpdateRecord,
)
from response.facts import (
    ActionItem,
    AlertFact,
    Classification,
    IncidentFacts,
    Postmortem,
    Role,
    RoleAssignment,
    StatusUpdate,
    Tick,
    TimelineItem,
    UpdateStatus,
)

NO_PROGRESS = "no_progress_escalation"  # the reminder kind whose rows are escalations
ALL_CLEAR = "all_clear"  # the notification topic of the all-clear
ROLE_ASSIGNED = "role_assigned"  # the timeline entry of a role's naming


def load_facts(session: Session, incident: IncidentRecord) -> IncidentFacts:
    """Everything the response process reads about `incident`, from its rows."""
    incident_id = incident.id
    roles = session.exec(select(RoleRecord).where(RoleRecord.incident_id == incident_id)).all()
    updates = session.exec(
        select(StatusUpdateRecord)
        .where(StatusUpdateRecord.incident_id == incident_id)
        .order_by(col(StatusUpdateRecord.at), col(StatusUpdateRecord.id))
    ).all()
    ticks = session.exec(
        select(ChecklistTick).where(ChecklistTick.incident_id == incident_id)
    ).all()
    escalations = session.exec(
        select(ReminderRecord.at)
        .where(ReminderRecord.incident_id == incident_id)
        .where(ReminderRecord.kind == NO_PROGRESS)
        .order_by(col(ReminderRecord.at))
    ).all()
    all_clear_at = session.exec(
        select(NotificationMessage.created_at)
        .where(NotificationMessage.incident_id == incident_id)
        .where(NotificationMessage.topic == ALL_CLEAR)
        .order_by(col(NotificationMessage.created_at))
        .limit(1)
    ).first()
    postmortem = session.get(PostmortemRecord, incident_id)
    namings = session.exec(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id)
        .where(TimelineEntry.kind == ROLE_ASSIGNED)
        .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
    ).all()
    first_named: dict[str, RoleAssignment] = {}
    for entry in namings:
        role = entry.data.get("role")
        if role in Role.__members__.values() and role not in first_named:
            first_named[role] = RoleAssignment(
                Role(role), entry.data.get("person", ""), entry.at, entry.data.get("by", "")
            )
    assert incident_id is not None
    return IncidentFacts(
        id=incident_id,
        title=incident.title,
        service=incident.service,
        severity=incident.severity,
        channel=incident.channel,
        status=incident.status,
        opened_at=incident.opened_at,
        acknowledged_at=incident.acknowledged_at,
        acknowledged_by=incident.acknowledged_by,
        resolved_at=incident.resolved_at,
        resolved_by=incident.resolved_by,
        roles=tuple(
            RoleAssignment(Role(r.role), r.person, r.assigned_at, r.assigned_by) for r in roles
        ),
        updates=tuple(
            StatusUpdate(u.at, u.by, UpdateStatus(u.status), u.impact, u.current_action, u.eta)
            for u in updates
        ),
        first_named=tuple(first_named.values()),
        ticks=tuple(Tick(t.item, t.at, t.by, t.note) for t in ticks),
        escalations=tuple(escalations),
        all_clear_at=all_clear_at,
        postmortem=(
            Postmortem(
                scheduled_at=postmortem.scheduled_at,
                drafted_at=postmortem.drafted_at,
                reviewed_at=postmortem.reviewed_at,
                exception=postmortem.exception,
                exception_at=postmortem.exception_at,
            )
            if postmortem
            else None
        ),
        classification=(
            Classification(incident.classification) if incident.classification else None
        ),
        classification_note=incident.classification_note,
    )


def load_alert_facts(session: Session, incident_id: int) -> list[AlertFact]:
    """The incident's alerts, oldest first."""
    alerts = session.exec(
        select(AlertRecord)
        .where(AlertRecord.incident_id == incident_id)
        .order_by(col(AlertRecord.starts_at), col(AlertRecord.id))
    ).all()
    return [
        AlertFact(
            name=a.alertname,
            severity=a.severity,
            status=a.status,
            service=a.service,
            rule=a.rule,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            summary=a.annotations.get("summary") or a.annotations.get("description", ""),
        )
        for a in alerts
    ]


def load_timeline(session: Session, incident_id: int) -> list[TimelineItem]:
    """The incident's timeline, in order."""
    entries = session.exec(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
    ).all()
    return [TimelineItem(e.at, e.kind, e.message) for e in entries]


def action_item(record: ActionItemRecord) -> ActionItem:
    """The pure value of an action item row."""
    assert record.id is not None
    return ActionItem(
        id=record.id,
        title=record.title,
        owner=record.owner,
        due_at=record.due_at,
        status=record.status,
        created_at=record.created_at,
        closed_at=record.closed_at,
    )


def load_action_items(session: Session, incident_id: int) -> list[ActionItem]:
    """The incident's postmortem action items, oldest first."""
    rows: Sequence[ActionItemRecord] = session.exec(
        select(ActionItemRecord)
        .where(ActionItemRecord.incident_id == incident_id)
        .order_by(col(ActionItemRecord.id))
    ).all()
    return [action_item(row) for row in rows]
