"""The Incident Commander's actions on an incident: roles, checklist ticks, severity, and
whether the incident was worth waking someone for.

Each action locks the incident, changes it, and says what it did in the timeline, in one
transaction. Repeating an action that is already in effect changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from receiver.incidents.lookup import locked_incident
from receiver.incidents.models import (
    IncidentRecord,
    IncidentStatus,
    add_to_timeline,
)
from receiver.paging.planner import plan_pages
from receiver.response.context import ResponseContext
from receiver.response.facts import ROLE_ASSIGNED, SEVERITY_CHANGED
from receiver.response.models import ChecklistTick, RoleRecord
from receiver.slack.outbox import tell
from receiver.slack.text import escape
from receiver.slack.text import person as mention
from receiver.web.errors import Conflict, InputError
from response.checklist import ITEMS, item_spec
from response.facts import Classification, Role
from rules.severity import SEVERITIES


@dataclass(frozen=True)
class Changed:
    """Whether the action changed anything (False for a repeat), and what it said."""

    incident_id: int
    changed: bool
    message: str


def parse_role(text: str) -> Role:
    """A role from its key ("commander") or title ("Incident Commander"); InputError if neither."""
    wanted = text.strip().lower().replace(" ", "_").replace("-", "_")
    for role in Role:
        if wanted in (role.value, role.title.lower().replace(" ", "_")):
            return role
    if wanted in ("ic", "incident_commander"):
        return Role.COMMANDER
    known = ", ".join(role.value for role in Role)
    raise InputError(f"role: expected one of {known}, got {text!r}")


def current_holder(session: Session, incident_id: int, role: Role) -> RoleRecord | None:
    """Who holds `role` on the incident now."""
    return session.exec(
        select(RoleRecord)
        .where(RoleRecord.incident_id == incident_id)
        .where(RoleRecord.role == role.value)
    ).first()


def role_holder(person: str, *, people: Collection[str], external: bool = False) -> str:
    """The name to record for a role holder, or InputError saying what to do instead.

    A role holder is one of the configured people (`people:`, the rota's), so that a typo
    such as "nosuchperson" is refused rather than made Incident Commander, and a holder is
    someone onwatch can reach (the reminders mail and name the IC and Communications Lead).
    Someone outside the rota (a vendor's engineer, a manager who is not on call) is named
    with `external` (`--external`, `"external": true`): the name is then recorded as given,
    and the timeline says they are outside the rota. `external` for a configured person
    changes nothing. The CLI and the API both call this, so they refuse the same names with
    the same message.
    """
    name = person.strip()
    if not name:
        raise InputError("person: expected a non-empty name")
    if external or name in people:
        return name
    raise InputError(
        f"person: {name!r} is not one of the configured people (people:); to name someone "
        'outside the rota, say so: --external on the command line, "external": true in the API'
    )


def assign_role(
    session: Session,
    incident_id: int,
    *,
    role: Role,
    person: str,
    by: str,
    now: datetime,
    context: ResponseContext,
    external: bool = False,
) -> Changed:
    """Name `person` for `role` (replacing whoever held it); the change is in the timeline.

    `person` must be one of the configured people, or `external` (see `role_holder`).
    """
    if not by.strip():
        raise InputError("by: expected a non-empty string")  # as the API says it
    people = context.paging.rota.people
    name = role_holder(person, people=people, external=external)
    incident = locked_incident(session, incident_id)
    outside = name not in people
    return _assign(
        session,
        incident,
        role=role,
        person=name,
        by=by.strip(),
        now=now,
        why="outside the rota" if outside else "",
        external=outside,
    )


def _assign(
    session: Session,
    incident: IncidentRecord,
    *,
    role: Role,
    person: str,
    by: str,
    now: datetime,
    why: str = "",
    external: bool = False,
) -> Changed:
    assert incident.id is not None
    holder = current_holder(session, incident.id, role)
    if holder is not None and holder.person == person:
        return Changed(incident.id, False, f"{person} is already {role.title}")
    previous = holder.person if holder else None
    if holder is None:
        holder = RoleRecord(
            incident_id=incident.id, role=role.value, person=person, assigned_at=now, assigned_by=by
        )
    else:
        holder.person, holder.assigned_at, holder.assigned_by = person, now, by
    session.add(holder)
    message = f"{person} is now {role.title}" + (f" (was {previous})" if previous else "")
    message += f", named by {by}" + (f" ({why})" if why else "")
    add_to_timeline(
        session,
        incident,
        now,
        ROLE_ASSIGNED,
        message,
        role=role.value,
        person=person,
        previous=previous,
        by=by,
        **({"external": True} if external else {}),
    )
    tell(
        session,
        incident.id,
        f"{mention(person)} is now {role.title}"
        + (f" (was {mention(previous)})" if previous else "")
        + f", named by {mention(by)}",
        key=f"role-{role.value}-{person}-{now.isoformat()}",
        now=now,
        invite=() if external else (person,),
        topic=role == Role.COMMANDER,
    )
    return Changed(incident.id, True, message)


def commander_by_default(
    session: Session, incident: IncidentRecord, *, person: str, now: datetime
) -> None:
    """The seed: whoever acknowledges leads, unless an Incident Commander is already named."""
    assert incident.id is not None
    if current_holder(session, incident.id, Role.COMMANDER) is None:
        _assign(
            session,
            incident,
            role=Role.COMMANDER,
            person=person,
            by="onwatch",
            now=now,
            why="acknowledged it; no Incident Commander was named",
        )


# Items whose state is the incident's own: ticking them by hand would make the checklist
# say something the incident does not (acknowledged, yet still escalating). The action to
# take instead:
EVENT_ONLY = {
    "acknowledged": "acknowledge the incident (POST .../ack, onwatch incident ack)",
    "commander_identified": "name the Incident Commander (POST .../roles)",
    "severity_determined": "the rules grade the incident; the IC may change it (.../severity)",
    "roles_assigned": "name the roles (POST .../roles)",
    "updates_posted": "post status updates (POST .../updates)",
    "escalated_if_stuck": "onwatch escalates when there is no progress",
    "service_restored": "resolve the incident (POST .../resolve)",
    "all_clear_sent": "the all-clear is sent when the incident is resolved",
    "postmortem_scheduled": "schedule the postmortem (POST .../postmortem)",
}


def tick_item(
    session: Session, incident_id: int, *, item: str, by: str, now: datetime, note_text: str = ""
) -> Changed:
    """Tick a checklist item by hand (with an optional note, such as the bridge's link)."""
    spec = item_spec(item)
    if spec is None:
        known = ", ".join(i.key for i in ITEMS if i.key not in EVENT_ONLY)
        raise InputError(f"item: unknown checklist item {item!r}; expected one of {known}")
    if item in EVENT_ONLY:
        raise InputError(f"item: {item} is not ticked by hand: {EVENT_ONLY[item]}")
    incident = locked_incident(session, incident_id)
    assert incident.id is not None
    done = session.exec(
        select(ChecklistTick)
        .where(ChecklistTick.incident_id == incident.id)
        .where(ChecklistTick.item == item)
    ).first()
    if done is not None:
        return Changed(incident.id, False, f"{spec.label}: already ticked by {done.by}")
    session.add(ChecklistTick(incident_id=incident.id, item=item, at=now, by=by, note=note_text))
    message = f"checklist: {spec.label} (ticked by {by})" + (f": {note_text}" if note_text else "")
    add_to_timeline(
        session, incident, now, "checklist_ticked", message, item=item, by=by, note=note_text
    )
    return Changed(incident.id, True, message)


def change_severity(
    session: Session,
    incident_id: int,
    *,
    severity: str,
    by: str,
    reason: str,
    now: datetime,
    context: ResponseContext,
) -> Changed:
    """The Incident Commander re-grades the incident; paging is re-evaluated.

    Once a person has set the severity, alerts no longer raise it (ingest notes what they
    suggest instead): the IC's judgement wins over the rules.
    """
    if severity not in SEVERITIES:
        raise InputError(f"severity: expected one of {', '.join(SEVERITIES)}, got {severity!r}")
    if not reason.strip():
        raise InputError("reason: say why the severity changes (it goes in the timeline)")
    incident = locked_incident(session, incident_id)
    assert incident.id is not None
    if incident.status != IncidentStatus.OPEN:
        raise Conflict(f"incident {incident.id} is resolved: its severity is final")
    commander = current_holder(session, incident.id, Role.COMMANDER)
    if commander is not None and commander.person != by:
        raise Conflict(
            f"only the Incident Commander ({commander.person}) can change the severity",
            commander=commander.person,
        )
    if incident.severity == severity:
        return Changed(incident.id, False, f"the severity is already {severity}")
    previous = incident.severity
    incident.severity, incident.severity_set_by, incident.updated_at = severity, by, now
    session.add(incident)
    role = "Incident Commander" if commander is not None else "no Incident Commander named yet"
    message = f"severity changed from {previous} to {severity} by {by} ({role}): {reason}"
    add_to_timeline(
        session,
        incident,
        now,
        SEVERITY_CHANGED,
        message,
        previous=previous,
        severity=severity,
        by=by,
        reason=reason,
    )
    tell(
        session,
        incident.id,
        f":warning: severity changed from {previous} to {severity} by {mention(by)}: "
        f"{escape(reason)}",
        key=f"severity-{severity}-{now.isoformat()}",
        now=now,
        topic=True,
    )
    if incident.acknowledged_at is None:
        # Nobody has it yet: the chain is planned again with the new severity's timeouts.
        plan_pages(session, incident, context=context.paging, now=now)
    return Changed(incident.id, True, message)


def classify(
    session: Session,
    incident_id: int,
    *,
    classification: str,
    by: str,
    note_text: str,
    now: datetime,
) -> Changed:
    """Mark the incident actionable or noise, so the report can name alerts that only wake."""
    try:
        value = Classification(classification)
    except ValueError:
        raise InputError(
            f"classification: expected actionable or noise, got {classification!r}"
        ) from None
    incident = locked_incident(session, incident_id)
    assert incident.id is not None
    if incident.classification == value.value and incident.classification_note == note_text:
        return Changed(incident.id, False, f"already marked {value.value}")
    incident.classification, incident.classification_note = value.value, note_text
    incident.classified_by = by
    session.add(incident)
    message = f"marked {value.value} by {by}" + (f": {note_text}" if note_text else "")
    add_to_timeline(
        session,
        incident,
        now,
        "classified",
        message,
        classification=value.value,
        note=note_text,
        by=by,
    )
    return Changed(incident.id, True, message)
