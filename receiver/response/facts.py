"""Reading an incident's response state from the store as the pure code's values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from receiver.incidents.models import AlertRecord, IncidentRecord, TimelineEntry
from receiver.notify.models import NotificationMessage
from receiver.postmortems.models import ActionItemRecord, PostmortemRecord
from receiver.response.models import ChecklistTick, ReminderRecord, RoleRecord, StatusUpdateRecord
from receiver.slack.models import SlackChannel
from response.facts import (
    ActionItem,
    AlertFact,
    ChatChannel,
    Classification,
    IncidentFacts,
    Postmortem,
    Role,
    RoleAssignment,
    SeverityChange,
    StatusUpdate,
    Tick,
    TimelineItem,
    UpdateStatus,
)
from response.reminders import DueKind

ALL_CLEAR = "all_clear"  # the notification topic of the all-clear
STATUS_UPDATE = "status_update"  # the notification topic of a status update
UPDATE_REMINDER = DueKind.UPDATE_REMINDER.value  # ... of a reminder that an update is due
ROLE_ASSIGNED = "role_assigned"  # the timeline entry of a role's naming
SEVERITY_CHANGED = "severity_changed"  # the timeline entry of a person's change of severity
SEVERITY_RAISED = "severity_raised"  # ... of ingest raising it for a worse alert
_BATCH = 500  # incidents per round of queries


def load_facts(session: Session, incident: IncidentRecord) -> IncidentFacts:
    """Everything the response process reads about `incident`, from its rows."""
    assert incident.id is not None
    return load_facts_of(session, [incident])[incident.id]


def incident_facts(incident: IncidentRecord) -> IncidentFacts:
    """The facts the incident row holds by itself (no roles, updates or ticks): no query."""
    return _facts(
        incident,
        roles=[],
        updates=[],
        ticks=[],
        escalations=[],
        all_clear_at=None,
        postmortem=None,
        timeline=[],
    )


def _by_incident(rows: Sequence[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.incident_id].append(row)
    return grouped


def load_facts_of(
    session: Session, incidents: Sequence[IncidentRecord]
) -> dict[int, IncidentFacts]:
    """The facts of many incidents, by id, in a few queries per 500 incidents (the
    scheduler's reminder job reads every open SEV1-2 incident each round)."""
    facts: dict[int, IncidentFacts] = {}
    for start in range(0, len(incidents), _BATCH):
        batch = incidents[start : start + _BATCH]
        facts.update(_load_batch(session, batch))
    return facts


def _load_batch(session: Session, incidents: Sequence[IncidentRecord]) -> dict[int, IncidentFacts]:
    ids = [incident.id for incident in incidents]
    roles = _by_incident(
        session.exec(select(RoleRecord).where(col(RoleRecord.incident_id).in_(ids))).all()
    )
    updates = _by_incident(
        session.exec(
            select(StatusUpdateRecord)
            .where(col(StatusUpdateRecord.incident_id).in_(ids))
            .order_by(col(StatusUpdateRecord.at), col(StatusUpdateRecord.id))
        ).all()
    )
    ticks = _by_incident(
        session.exec(select(ChecklistTick).where(col(ChecklistTick.incident_id).in_(ids))).all()
    )
    escalations = _by_incident(
        session.exec(
            select(ReminderRecord)
            .where(col(ReminderRecord.incident_id).in_(ids))
            .where(ReminderRecord.kind == DueKind.NO_PROGRESS.value)  # rows that are escalations
            .order_by(col(ReminderRecord.at))
        ).all()
    )
    first_sent = {
        (incident_id, topic): first  # min() keeps the column type: aware UTC
        for incident_id, topic, first in session.exec(
            select(
                NotificationMessage.incident_id,
                NotificationMessage.topic,
                func.min(NotificationMessage.created_at),
            )
            .where(col(NotificationMessage.incident_id).in_(ids))
            .where(col(NotificationMessage.topic).in_([ALL_CLEAR, STATUS_UPDATE]))
            .group_by(col(NotificationMessage.incident_id), col(NotificationMessage.topic))
        ).all()
    }
    chat_channels = {
        c.incident_id: ChatChannel(c.name, c.created_at, c.archived_at, c.problem)
        for c in session.exec(
            select(SlackChannel).where(col(SlackChannel.incident_id).in_(ids))
        ).all()
    }
    postmortems = {
        p.incident_id: p
        for p in session.exec(
            select(PostmortemRecord).where(col(PostmortemRecord.incident_id).in_(ids))
        ).all()
    }
    # The timeline entries the facts read: role namings and changes of severity.
    entries = _by_incident(
        session.exec(
            select(TimelineEntry)
            .where(col(TimelineEntry.incident_id).in_(ids))
            .where(col(TimelineEntry.kind).in_([ROLE_ASSIGNED, SEVERITY_CHANGED, SEVERITY_RAISED]))
            .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
        ).all()
    )
    return {
        incident.id: _facts(
            incident,
            roles=roles.get(incident.id, []),
            updates=updates.get(incident.id, []),
            ticks=ticks.get(incident.id, []),
            escalations=[r.at for r in escalations.get(incident.id, [])],
            all_clear_at=first_sent.get((incident.id, ALL_CLEAR)),
            first_notified_at=first_sent.get((incident.id, STATUS_UPDATE)),
            postmortem=postmortems.get(incident.id),
            timeline=entries.get(incident.id, []),
            chat_channel=chat_channels.get(incident.id),
        )
        for incident in incidents
        if incident.id is not None
    }


def _first_named(timeline: Sequence[TimelineEntry]) -> tuple[RoleAssignment, ...]:
    first: dict[str, RoleAssignment] = {}
    for entry in (e for e in timeline if e.kind == ROLE_ASSIGNED):
        role = entry.data.get("role")
        if isinstance(role, str) and role in Role.__members__.values() and role not in first:
            first[role] = RoleAssignment(
                Role(role), entry.data.get("person", ""), entry.at, entry.data.get("by", "")
            )
    return tuple(first.values())


def _severity_changes(timeline: Sequence[TimelineEntry]) -> tuple[SeverityChange, ...]:
    """The incident's changes of severity, oldest first (the executive update lists them).

    The timeline is where both kinds are recorded, with their facts in the entry's data: the
    IC's change (by, reason) and a worse alert raising it (the rule that graded the alert).
    """
    changes: list[SeverityChange] = []
    for entry in timeline:
        if entry.kind not in (SEVERITY_CHANGED, SEVERITY_RAISED):
            continue
        previous, severity = entry.data.get("previous"), entry.data.get("severity")
        if not isinstance(previous, str) or not isinstance(severity, str):
            continue  # an entry without the facts (none is written so): nothing to show
        if entry.kind == SEVERITY_CHANGED:
            by, reason = str(entry.data.get("by") or ""), str(entry.data.get("reason") or "")
        else:
            rule = entry.data.get("rule")
            by, reason = "", f"rule {rule}" if rule else ""
        changes.append(SeverityChange(entry.at, previous, severity, by, reason))
    return tuple(changes)


def _facts(
    incident: IncidentRecord,
    *,
    roles: Sequence[RoleRecord],
    updates: Sequence[StatusUpdateRecord],
    ticks: Sequence[ChecklistTick],
    escalations: Sequence[datetime],
    all_clear_at: datetime | None,
    postmortem: PostmortemRecord | None,
    first_notified_at: datetime | None = None,
    timeline: Sequence[TimelineEntry],
    chat_channel: ChatChannel | None = None,
) -> IncidentFacts:
    assert incident.id is not None
    return IncidentFacts(
        id=incident.id,
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
        first_named=_first_named(timeline),
        severity_changes=_severity_changes(timeline),
        updates=tuple(
            StatusUpdate(u.at, u.by, UpdateStatus(u.status), u.impact, u.current_action, u.eta)
            for u in updates
        ),
        ticks=tuple(Tick(t.item, t.at, t.by, t.note) for t in ticks),
        escalations=tuple(escalations),
        all_clear_at=all_clear_at,
        first_notified_at=first_notified_at,
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
        chat_channel=chat_channel,
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
        assigned_at=record.assigned_at,
    )


def load_action_items(session: Session, incident_id: int) -> list[ActionItem]:
    """The incident's postmortem action items, oldest first."""
    return load_action_items_of(session, [incident_id]).get(incident_id, [])


def load_action_items_of(
    session: Session, incident_ids: Sequence[int]
) -> dict[int, list[ActionItem]]:
    """The action items of many incidents, by incident id, oldest first."""
    items: dict[int, list[ActionItem]] = defaultdict(list)
    for start in range(0, len(incident_ids), _BATCH):
        rows = session.exec(
            select(ActionItemRecord)
            .where(col(ActionItemRecord.incident_id).in_(incident_ids[start : start + _BATCH]))
            .order_by(col(ActionItemRecord.id))
        ).all()
        for row in rows:
            items[row.incident_id].append(action_item(row))
    return dict(items)
